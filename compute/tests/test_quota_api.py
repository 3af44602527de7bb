"""Compute quota sets and limits as clients see them (/compute/v2.1)."""
import pytest

from compute.api.base import MAX_VERSION
from identity.services import quotas

pytestmark = pytest.mark.django_db

BASE = "/compute/v2.1"
COMPUTE_KEYS = {
    "instances", "cores", "ram", "floating_ips", "fixed_ips", "metadata_items", "injected_files",
    "injected_file_content_bytes", "injected_file_path_bytes", "key_pairs", "security_groups",
    "security_group_rules", "server_groups", "server_group_members",
}



@pytest.fixture
def demo(member_account):
    return member_account[1]


def put(client, project_id, body, **kwargs):
    return client.put(f"{BASE}/os-quota-sets/{project_id}", body, format="json", **kwargs)


@pytest.mark.parametrize("slash", ["", "/"])
def test_show_quota_set_with_defaults(admin_client, demo, slash):
    resp = admin_client.get(f"{BASE}/os-quota-sets/{demo.id}{slash}")
    assert resp.status_code == 200
    body = resp.json()["quota_set"]
    assert set(body) == COMPUTE_KEYS | {"id"}
    assert body["id"] == demo.id
    assert (body["instances"], body["cores"], body["ram"], body["fixed_ips"]) == (10, 20, 51200, -1)
    assert resp["OpenStack-API-Version"] == "compute 2.1"


def test_member_reads_own_project_but_not_others(member_client, demo, make_account):
    assert member_client.get(f"{BASE}/os-quota-sets/{demo.id}").status_code == 200
    _, other, _ = make_account("other", "member")
    resp = member_client.get(f"{BASE}/os-quota-sets/{other.id}")
    assert resp.status_code == 404
    assert resp.json()["itemNotFound"]["code"] == 404
    assert member_client.get(f"{BASE}/os-quota-sets/{other.id}/detail").status_code == 404
    assert member_client.get(f"{BASE}/os-quota-sets/does-not-exist").status_code == 404


def test_unknown_project_is_404(admin_client):
    for suffix in ("", "/defaults", "/detail"):
        resp = admin_client.get(f"{BASE}/os-quota-sets/nope{suffix}")
        assert resp.status_code == 404, suffix
        assert resp.json()["itemNotFound"]["code"] == 404
    assert put(admin_client, "nope", {"quota_set": {"instances": 1}}).status_code == 404
    assert admin_client.delete(f"{BASE}/os-quota-sets/nope").status_code == 404


def test_no_token_is_401(anon_client, demo):
    resp = anon_client.get(f"{BASE}/os-quota-sets/{demo.id}")
    assert resp.status_code == 401
    assert anon_client.get(f"{BASE}/limits").status_code == 401


def test_admin_updates_and_resets(admin_client, member_client, demo):
    resp = put(admin_client, demo.id, {"quota_set": {"instances": 5, "cores": "7", "ram": -1}})
    assert resp.status_code == 200, resp.content
    body = resp.json()["quota_set"]
    assert set(body) == COMPUTE_KEYS
    assert (body["instances"], body["cores"], body["ram"]) == (5, 7, -1)
    shown = member_client.get(f"{BASE}/os-quota-sets/{demo.id}").json()["quota_set"]
    assert (shown["instances"], shown["cores"], shown["ram"]) == (5, 7, -1)
    defaults = member_client.get(f"{BASE}/os-quota-sets/{demo.id}/defaults").json()["quota_set"]
    assert defaults["instances"] == 10 and defaults["id"] == demo.id

    resp = admin_client.delete(f"{BASE}/os-quota-sets/{demo.id}")
    assert resp.status_code == 202
    shown = member_client.get(f"{BASE}/os-quota-sets/{demo.id}").json()["quota_set"]
    assert (shown["instances"], shown["cores"], shown["ram"]) == (10, 20, 51200)


def test_member_cannot_update_or_delete(member_client, demo):
    resp = put(member_client, demo.id, {"quota_set": {"instances": 50}})
    assert resp.status_code == 403
    assert resp.json()["forbidden"]["code"] == 403
    assert member_client.delete(f"{BASE}/os-quota-sets/{demo.id}").status_code == 403
    assert quotas.get_quotas(demo)["instances"] == 10


@pytest.mark.parametrize(
    "body",
    [
        {"quota_set": {"instances": "many"}},
        {"quota_set": {"instances": -2}},
        {"quota_set": {"instances": 2**31}},
        {"quota_set": {"instances": True}},
        {"quota_set": {"instances": None}},
        {"quota_set": {"unicorns": 1}},
        {"quota_set": {"volumes": 1}},
        {"quota_set": {"instances": 1, "force": "sometimes"}},
        {"quota_set": "all"},
        {"quotas": {"instances": 1}},
        ["instances"],
    ],
)
def test_bad_bodies_are_400(admin_client, demo, body):
    resp = put(admin_client, demo.id, body)
    assert resp.status_code == 400, resp.content
    assert resp.json()["badRequest"]["code"] == 400
    assert quotas.get_quotas(demo)["instances"] == 10


def test_malformed_json_is_400(admin_client, demo):
    resp = admin_client.put(
        f"{BASE}/os-quota-sets/{demo.id}", data="{not json", content_type="application/json"
    )
    assert resp.status_code == 400
    assert "badRequest" in resp.json()


def test_lowering_below_usage_needs_force(admin_client, demo):
    quotas.commit(quotas.reserve(demo, {"instances": 3}))
    resp = put(admin_client, demo.id, {"quota_set": {"instances": 2}})
    assert resp.status_code == 400
    assert "instances" in resp.json()["badRequest"]["message"]
    resp = put(admin_client, demo.id, {"quota_set": {"instances": 2, "force": True}})
    assert resp.status_code == 200
    assert resp.json()["quota_set"]["instances"] == 2


def test_detail_shows_usage(member_client, demo):
    quotas.commit(quotas.reserve(demo, {"instances": 2, "cores": 4}))
    quotas.reserve(demo, {"instances": 1})
    resp = member_client.get(f"{BASE}/os-quota-sets/{demo.id}/detail/")
    assert resp.status_code == 200
    body = resp.json()["quota_set"]
    assert body["id"] == demo.id
    assert body["instances"] == {"limit": 10, "in_use": 2, "reserved": 1}
    assert body["cores"] == {"limit": 20, "in_use": 4, "reserved": 0}
    assert set(body) == COMPUTE_KEYS | {"id"}


@pytest.mark.parametrize("slash", ["", "/"])
def test_limits_for_the_token_project(member_client, demo, slash):
    quotas.set_quota(demo, "instances", 4)
    quotas.commit(quotas.reserve(demo, {"instances": 1, "cores": 2, "ram": 512}))
    quotas.reserve(demo, {"instances": 1})
    resp = member_client.get(f"{BASE}/limits{slash}")
    assert resp.status_code == 200
    limits = resp.json()["limits"]
    assert limits["rate"] == []
    absolute = limits["absolute"]
    assert set(absolute) == {
        "maxTotalInstances", "maxTotalCores", "maxTotalRAMSize", "maxServerMeta", "maxImageMeta",
        "maxPersonality", "maxPersonalitySize", "maxTotalKeypairs", "maxSecurityGroups",
        "maxSecurityGroupRules", "maxTotalFloatingIps", "maxServerGroups", "maxServerGroupMembers",
        "totalInstancesUsed", "totalCoresUsed", "totalRAMUsed", "totalFloatingIpsUsed",
        "totalSecurityGroupsUsed", "totalServerGroupsUsed",
    }
    assert absolute["maxTotalInstances"] == 4
    assert absolute["maxImageMeta"] == 128 and absolute["maxServerMeta"] == 128
    assert (absolute["totalInstancesUsed"], absolute["totalCoresUsed"], absolute["totalRAMUsed"]) == (1, 2, 512)
    reserved = member_client.get(f"{BASE}/limits?reserved=1").json()["limits"]["absolute"]
    assert reserved["totalInstancesUsed"] == 2
    assert member_client.get(f"{BASE}/limits?reserved=perhaps").status_code == 400


def test_limits_of_another_project(admin_client, member_client, demo, make_account):
    quotas.set_quota(demo, "cores", 3)
    resp = admin_client.get(f"{BASE}/limits?tenant_id={demo.id}")
    assert resp.status_code == 200
    assert resp.json()["limits"]["absolute"]["maxTotalCores"] == 3
    assert admin_client.get(f"{BASE}/limits?tenant_id=nope").status_code == 404
    _, other, _ = make_account("other", "member")
    assert member_client.get(f"{BASE}/limits?tenant_id={other.id}").status_code == 403
    own = member_client.get(f"{BASE}/limits?tenant_id={demo.id}")
    assert own.status_code == 200


def test_microversion_header(member_client, demo):
    url = f"{BASE}/os-quota-sets/{demo.id}"
    for value, negotiated in (("compute 2.1", "2.1"), ("compute latest", MAX_VERSION)):
        resp = member_client.get(url, HTTP_OPENSTACK_API_VERSION=value)
        assert resp.status_code == 200
        assert resp["OpenStack-API-Version"] == f"compute {negotiated}"
    resp = member_client.get(url, HTTP_OPENSTACK_API_VERSION="compute 2.99")
    assert resp.status_code == 406
    assert resp.json()["notAcceptable"]["code"] == 406
    assert member_client.get(url, HTTP_OPENSTACK_API_VERSION="compute two").status_code == 400
    assert member_client.get(url, HTTP_X_OPENSTACK_NOVA_API_VERSION="2.1").status_code == 200


def test_method_not_allowed_is_an_envelope(admin_client, demo):
    resp = admin_client.post(f"{BASE}/os-quota-sets/{demo.id}", {}, format="json")
    assert resp.status_code == 405
    assert resp.json()["badMethod"]["code"] == 405
