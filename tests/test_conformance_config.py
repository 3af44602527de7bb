"""`make conformance`'s pure parts (conformance/config.py): the skip list every entry of which
names the missing feature, and the tempest.conf written from what the cloud answers."""
import ast
import configparser
import re

import pytest

from conformance import config

ROOT_SKIP_LIST = config.__file__.rsplit("/", 1)[0] + "/skip.txt"


def facts(**overrides):
    values = dict(
        identity_uri_v3="http://127.0.0.1:18774/identity/v3", admin_username="admin", admin_password="s3cret%x",
        admin_project="admin", region="RegionOne", catalog_types={"compute", "image", "volumev3", "block-storage",
                                                                   "identity"},
        compute_min_version="2.1", compute_max_version="2.79", image_versions=["v2.9", "v2.0"],
        volume_min_version="3.0", volume_max_version="3.60", image_ref="img-1", image_ref_alt="img-2",
        flavor_ref="42", flavor_ref_alt="84", fixed_network_name="private", log_file="/tmp/t.log",
        lock_path="/tmp/locks",
    )
    values.update(overrides)
    return config.CloudFacts(**values)


def parse(text):
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(text)
    return conf


def test_the_repository_skip_list_parses_and_every_entry_has_a_reason():
    with open(ROOT_SKIP_LIST) as handle:
        entries = config.parse_skip_list(handle.read())
    for entry in entries:
        assert entry.reason, entry
        re.compile(entry.regex)


def test_skip_list_entries_and_comments():
    text = "# header\n\n^tempest\\.api\\.compute\\.servers\\.test_a  # no resize action\n  x\\.y #no shelve\n"
    entries = config.parse_skip_list(text)
    assert [(e.regex, e.reason, e.line) for e in entries] == [
        ("^tempest\\.api\\.compute\\.servers\\.test_a", "no resize action", 3),
        ("x\\.y", "no shelve", 4),
    ]
    assert config.exclude_list_text(entries) == "^tempest\\.api\\.compute\\.servers\\.test_a\nx\\.y\n"


@pytest.mark.parametrize("text, message", [
    ("tempest.api.compute.test_x\n", "has no reason"),
    ("tempest.api.compute.test_x #   \n", "has no reason"),
    ("tempest.api.(compute  # broken regex\n", "not a regular expression"),
])
def test_skip_list_refuses_entries_without_reason_or_bad_regex(text, message):
    with pytest.raises(config.SkipListError, match=message):
        config.parse_skip_list(text)


def test_tempest_conf_describes_the_cloud():
    conf = parse(config.render_tempest_conf(facts()))
    assert conf["identity"]["uri_v3"] == "http://127.0.0.1:18774/identity/v3"
    assert conf["auth"]["admin_password"] == "s3cret%x"  # no interpolation: '%' survives
    assert conf["auth"]["use_dynamic_credentials"] == "true"
    assert (conf["compute"]["min_microversion"], conf["compute"]["max_microversion"]) == ("2.1", "2.79")
    assert (conf["volume"]["min_microversion"], conf["volume"]["max_microversion"]) == ("3.0", "3.60")
    assert conf["volume"]["catalog_type"] == "block-storage"
    assert (conf["compute"]["flavor_ref"], conf["compute"]["flavor_ref_alt"]) == ("42", "84")
    assert conf["service_available"]["neutron"] == "false"
    assert conf["service_available"]["nova"] == conf["service_available"]["cinder"] == "true"
    assert conf["service_available"]["swift"] == "false"
    assert conf["image-feature-enabled"]["api_v2"] == "true"
    assert conf["image-feature-enabled"]["api_v1"] == "false"
    assert conf["compute-feature-enabled"]["pause"] == "true"
    assert conf["compute-feature-enabled"]["live_migration"] == "false"
    assert conf["validation"]["run_validation"] == "false"


def test_the_server_actions_the_cloud_implements_are_enabled_on_one_host():
    """resize, migrate, shelve and rescue are tested by tempest; the conformance cloud has one
    compute host, so it resizes on it and tempest's multi-node migration tests skip."""
    conf = parse(config.render_tempest_conf(facts()))
    features = conf["compute-feature-enabled"]
    for name in ("resize", "cold_migration", "shelve", "shelve_migrate", "rescue"):
        assert features[name] == "true", name
    for name in ("stable_rescue", "change_password", "personality"):
        assert features[name] == "false", name
    assert conf["compute"]["min_compute_nodes"] == "1"
    # the script's CLOUD_ENV (read, not imported: importing it sets the cloud's environment)
    with open(ROOT_SKIP_LIST.rsplit("/", 2)[0] + "/scripts/conformance.py") as handle:
        tree = ast.parse(handle.read())
    cloud_env = next(node.value for node in tree.body
                     if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "CLOUD_ENV")
    constants = {key.value: value.value for key, value in zip(cloud_env.keys, cloud_env.values)
                 if isinstance(value, ast.Constant)}
    assert constants["ALLOW_RESIZE_TO_SAME_HOST"] == "true"


def test_tempest_users_get_the_role_floating_ips_take():
    from identity.services.accounts import DEFAULT_ROLES
    from identity.services.policy import rule_for

    conf = parse(config.render_tempest_conf(facts()))
    roles = conf["auth"]["tempest_roles"].split(",")
    assert roles == ["netadmin"] and "netadmin" in DEFAULT_ROLES  # bootstrap creates it
    assert "network" not in conf  # no pool named: tempest allocates from the default one
    pooled = parse(config.render_tempest_conf(facts(floating_network_name="public")))
    assert pooled["network"]["floating_network_name"] == "public"
    for action in ("create", "delete", "add", "remove"):
        assert rule_for(f"compute:floating_ips:{action}") == "netadmin"


def test_neutron_follows_the_catalog_and_missing_microversions_are_left_out():
    conf = parse(config.render_tempest_conf(facts(
        catalog_types={"compute", "network", "volumev3", "identity"}, volume_min_version=None, volume_max_version=None,
    )))
    assert conf["service_available"]["neutron"] == "true"
    assert conf["service_available"]["glance"] == "false"
    assert conf["volume"]["catalog_type"] == "volumev3"
    assert "max_microversion" not in conf["volume"]


def test_version_range_reads_both_document_shapes():
    assert config.version_range({"version": {"min_version": "2.1", "version": "2.79"}}) == ("2.1", "2.79")
    doc = {"versions": [{"id": "v3.0", "status": "CURRENT", "min_version": "3.0", "version": "3.60"},
                        {"id": "v2.0", "status": "DEPRECATED", "min_version": "", "version": ""}]}
    assert config.version_range(doc) == ("3.0", "3.60")
    assert config.version_range({"version": {"min_version": "", "version": ""}}) == (None, None)


def test_failures_are_grouped_by_call_and_cause_most_tests_first():
    from conformance import failures

    log = (
        "INFO tempest.lib.common.rest_client [req-1] Request (KeyPairsTest:test_a): 200 POST "
        "http://127.0.0.1:18774/compute/v2.1/os-keypairs 0.01s\n"
        "INFO tempest.lib.common.rest_client [req-2] Request (ImagesTest:test_b): 404 GET "
        "http://127.0.0.1:18774/image/v2/schemas/image 0.01s\n"
        "INFO tempest.lib.common.rest_client [req-3] Request (ImagesTest:test_c): 404 GET "
        "http://127.0.0.1:18774/image/v2/schemas/image 0.01s\n"
        "INFO tempest.lib.common.rest_client [req-4] Request (ServersTest:setUpClass): 404 GET "
        "http://127.0.0.1:18774/compute/v2.1/servers/0b0e4a0e-3f47-4b59-9d5b-1d1c5a2f8e11 0.01s\n"
    )
    schema_error = ("Traceback (most recent call last):\n  File x\n"
                    "tempest.lib.exceptions.InvalidHTTPResponseBody: HTTP response body is invalid json or xml\n"
                    "Details: Additional properties are not allowed ('type' was unexpected)\n")
    not_found = "Traceback:\ntempest.lib.exceptions.NotFound: Object not found\nDetails: {'code': 404}\n"
    results = [
        {"id": "tempest.api.compute.keypairs.test_k.KeyPairsTest.test_a[id-1,smoke]", "status": "fail",
         "details": schema_error},
        {"id": "tempest.api.image.v2.test_i.ImagesTest.test_b[id-2]", "status": "fail", "details": not_found},
        {"id": "tempest.api.image.v2.test_i.ImagesTest.test_c[id-3]", "status": "fail", "details": not_found},
        {"id": "setUpClass (tempest.api.compute.servers.test_s.ServersTest)", "status": "fail", "details": not_found},
        {"id": "tempest.api.image.v2.test_i.ImagesTest.test_d[id-4]", "status": "success", "details": ""},
    ]
    groups = failures.group(results, log)
    assert [(n, call) for n, call, _summary, _tests in groups] == [
        (2, "GET /image/v2/schemas/image → 404"),
        (1, "GET /compute/v2.1/servers/{id} → 404"),
        (1, "POST /compute/v2.1/os-keypairs → 200"),
    ]
    assert "NotFound: Object not found" in groups[0][2]
    assert "'type' was unexpected" in groups[2][2]
