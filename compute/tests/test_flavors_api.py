"""Flavors API: defaults, detail fields, filters, paging, create/delete, extra specs,
access lists of private flavors and the errors a user sees."""
import pytest

from compute.models import Flavor
from compute.services.flavors import ensure_default_flavors

API = "/compute/v2.1"
DEFAULTS = {"1": "m1.tiny", "2": "m1.small", "3": "m1.medium", "4": "m1.large", "5": "m1.xlarge"}


def create(client, **fields):
    body = {"name": "f1", "ram": 256, "vcpus": 1, "disk": 1, **fields}
    return client.post(f"{API}/flavors", {"flavor": body}, format="json")


def test_defaults_seeded_by_migration_and_idempotent(db):
    assert {f.flavorid: f.name for f in Flavor.objects.all()} == DEFAULTS
    ensure_default_flavors()
    assert Flavor.objects.count() == 5


def test_list_and_detail(member_client):
    resp = member_client.get(f"{API}/flavors")
    assert resp.status_code == 200
    flavors = resp.json()["flavors"]
    assert {f["id"]: f["name"] for f in flavors} == DEFAULTS
    assert set(flavors[0]) == {"id", "name", "links"}
    assert flavors[0]["links"][0] == {"rel": "self", "href": "http://testserver/compute/v2.1/flavors/1"}
    assert flavors[0]["links"][1] == {"rel": "bookmark", "href": "http://testserver/compute/flavors/1"}

    detail = {f["id"]: f for f in member_client.get(f"{API}/flavors/detail/").json()["flavors"]}
    assert detail["2"] == {
        "id": "2",
        "name": "m1.small",
        "ram": 2048,
        "disk": 20,
        "vcpus": 1,
        "links": detail["2"]["links"],
        "OS-FLV-EXT-DATA:ephemeral": 0,
        "OS-FLV-DISABLED:disabled": False,
        "os-flavor-access:is_public": True,
        "swap": "",
        "rxtx_factor": 1.0,
    }


def test_show(member_client):
    resp = member_client.get(f"{API}/flavors/3")
    assert resp.status_code == 200
    assert resp.json()["flavor"]["name"] == "m1.medium"
    missing = member_client.get(f"{API}/flavors/nope")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == "Flavor nope could not be found."


def test_filters_min_ram_min_disk(member_client):
    flavors = member_client.get(f"{API}/flavors/detail?minRam=4096&minDisk=50").json()["flavors"]
    assert [f["name"] for f in flavors] == ["m1.large", "m1.xlarge"]
    for bad in ("minRam=abc", "minDisk=1.5", "is_public=maybe", "limit=x", "limit=-1", "marker=zzz"):
        resp = member_client.get(f"{API}/flavors/detail?{bad}")
        assert resp.status_code == 400, bad
        assert "badRequest" in resp.json()


def test_limit_marker_and_next_link(member_client):
    page = member_client.get(f"{API}/flavors?limit=2").json()
    assert [f["id"] for f in page["flavors"]] == ["1", "2"]
    (link,) = page["flavors_links"]
    assert link["rel"] == "next" and "marker=2" in link["href"] and "limit=2" in link["href"]
    page = member_client.get(f"{API}/flavors?limit=2&marker=2").json()
    assert [f["id"] for f in page["flavors"]] == ["3", "4"]
    last = member_client.get(f"{API}/flavors/detail?limit=2&marker=4").json()
    assert [f["id"] for f in last["flavors"]] == ["5"]
    assert "flavors_links" not in last


def test_create_as_admin(admin_client, member_client):
    resp = create(
        admin_client, name="m1.custom", ram="1024", vcpus=2, disk=10, id="custom-1",
        swap=128, rxtx_factor=2.0, **{"OS-FLV-EXT-DATA:ephemeral": 5},
    )
    assert resp.status_code == 200, resp.content
    flavor = resp.json()["flavor"]
    assert flavor["id"] == "custom-1"
    assert (flavor["ram"], flavor["vcpus"], flavor["disk"], flavor["swap"]) == (1024, 2, 10, 128)
    assert flavor["OS-FLV-EXT-DATA:ephemeral"] == 5 and flavor["rxtx_factor"] == 2.0
    assert member_client.get(f"{API}/flavors/custom-1").json()["flavor"]["name"] == "m1.custom"


def test_create_generates_uuid_id(admin_client):
    for given in ({}, {"id": None}):
        resp = create(admin_client, name=f"auto-{len(given)}", **given)
        assert resp.status_code == 200
        assert len(resp.json()["flavor"]["id"]) == 36


@pytest.mark.parametrize(
    "fields",
    [
        {"ram": "lots"},
        {"ram": 0},
        {"vcpus": -1},
        {"vcpus": True},
        {"disk": 1.5},
        {"ram": 2**31},
        {"name": ""},
        {"name": " padded"},
        {"name": 12},
        {"id": "bad/id"},
        {"id": ""},
        {"rxtx_factor": 0},
        {"rxtx_factor": "fast"},
        {"swap": -5},
        {"os-flavor-access:is_public": "perhaps"},
        {"color": "red"},
        {"description": "2.55 only"},
    ],
)
def test_create_rejects_bad_input(admin_client, fields):
    resp = create(admin_client, **fields)
    assert resp.status_code == 400, fields
    assert resp.json()["badRequest"]["code"] == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"flavor": "m1.tiny"},
        {"flavor": {"name": "x", "ram": 1, "vcpus": 1}},
        {"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0}, "extra": 1},
        [1, 2],
    ],
)
def test_create_rejects_bad_bodies(admin_client, body):
    resp = admin_client.post(f"{API}/flavors", body, format="json")
    assert resp.status_code == 400
    assert "badRequest" in resp.json()


def test_create_malformed_json_is_400(admin_client):
    resp = admin_client.generic("POST", f"{API}/flavors", "{not json", content_type="application/json")
    assert resp.status_code == 400
    assert "badRequest" in resp.json()


def test_create_duplicates_conflict(admin_client):
    resp = create(admin_client, name="m1.tiny")
    assert resp.status_code == 409
    assert resp.json()["conflictingRequest"]["message"] == "Flavor with name m1.tiny already exists."
    resp = create(admin_client, name="other", id="1")
    assert resp.status_code == 409
    assert resp.json()["conflictingRequest"]["message"] == "Flavor with ID 1 already exists."


def test_member_cannot_create_or_delete(member_client):
    assert create(member_client).status_code == 403
    resp = member_client.delete(f"{API}/flavors/1")
    assert resp.status_code == 403
    assert resp.json()["forbidden"]["code"] == 403


def test_delete_is_soft_and_frees_name_and_id(admin_client):
    resp = admin_client.delete(f"{API}/flavors/1")
    assert resp.status_code == 202
    assert admin_client.get(f"{API}/flavors/1").status_code == 404
    assert admin_client.delete(f"{API}/flavors/1").status_code == 404
    assert Flavor.all_objects.filter(flavorid="1", deleted_at__isnull=False).exists()  # instances keep their copy
    assert "1" not in [f["id"] for f in admin_client.get(f"{API}/flavors").json()["flavors"]]
    assert create(admin_client, name="m1.tiny", id="1").status_code == 200


def test_extra_specs(admin_client, member_client):
    url = f"{API}/flavors/2/os-extra_specs"
    assert admin_client.get(url).json() == {"extra_specs": {}}
    resp = admin_client.post(url, {"extra_specs": {"hw:cpu_policy": "dedicated", "quota:cpu_shares": 512}}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"extra_specs": {"hw:cpu_policy": "dedicated", "quota:cpu_shares": "512"}}
    assert member_client.get(url).json()["extra_specs"]["hw:cpu_policy"] == "dedicated"
    assert member_client.get(f"{url}/quota:cpu_shares").json() == {"quota:cpu_shares": "512"}

    resp = admin_client.put(f"{url}/hw:cpu_policy", {"hw:cpu_policy": "shared"}, format="json")
    assert resp.status_code == 200 and resp.json() == {"hw:cpu_policy": "shared"}
    assert admin_client.put(f"{url}/hw:cpu_policy", {"other": "x"}, format="json").status_code == 400
    assert admin_client.put(f"{url}/a", {"a": "1", "b": "2"}, format="json").status_code == 400
    assert admin_client.post(url, {"extra_specs": {"bad/key": "x"}}, format="json").status_code == 400
    assert admin_client.post(url, {"extra_specs": {"k": {"nested": 1}}}, format="json").status_code == 400
    assert admin_client.post(url, {"specs": {}}, format="json").status_code == 400
    assert member_client.post(url, {"extra_specs": {"a": "b"}}, format="json").status_code == 403

    assert admin_client.delete(f"{url}/hw:cpu_policy").status_code == 200
    missing = admin_client.get(f"{url}/hw:cpu_policy")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()
    assert admin_client.delete(f"{url}/hw:cpu_policy").status_code == 404
    assert admin_client.get(f"{API}/flavors/nope/os-extra_specs").status_code == 404


@pytest.fixture
def private_flavor(admin_client):
    resp = create(admin_client, name="secret", id="priv-1", **{"os-flavor-access:is_public": False})
    assert resp.status_code == 200
    return resp.json()["flavor"]


def test_private_flavor_visibility_and_access(admin_client, member_client, member_account, make_account, private_flavor):
    _user, demo_project, _token = member_account
    # Hidden from other projects: absent from lists, 404 when asked directly.
    assert member_client.get(f"{API}/flavors/priv-1").status_code == 404
    assert member_client.get(f"{API}/flavors/priv-1/os-extra_specs").status_code == 404
    assert "priv-1" not in [f["id"] for f in member_client.get(f"{API}/flavors/detail").json()["flavors"]]
    # Admin: public listing by default, all with is_public=None, private only with false.
    assert "priv-1" not in [f["id"] for f in admin_client.get(f"{API}/flavors").json()["flavors"]]
    assert "priv-1" in [f["id"] for f in admin_client.get(f"{API}/flavors?is_public=None").json()["flavors"]]
    assert [f["id"] for f in admin_client.get(f"{API}/flavors?is_public=false").json()["flavors"]] == ["priv-1"]

    url = f"{API}/flavors/priv-1/action"
    assert admin_client.get(f"{API}/flavors/priv-1/os-flavor-access").json() == {"flavor_access": []}
    resp = admin_client.post(url, {"addTenantAccess": {"tenant": demo_project.id}}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"flavor_access": [{"flavor_id": "priv-1", "tenant_id": demo_project.id}]}
    assert admin_client.post(url, {"addTenantAccess": {"tenant": demo_project.id}}, format="json").status_code == 409

    # Now the demo project sees it; yet another project still does not.
    assert member_client.get(f"{API}/flavors/priv-1").status_code == 200
    assert "priv-1" in [f["id"] for f in member_client.get(f"{API}/flavors").json()["flavors"]]
    from cloudproj.testing.clients import TokenClient

    other = TokenClient(make_account("other", "member")[2])
    assert other.get(f"{API}/flavors/priv-1").status_code == 404

    resp = admin_client.post(url, {"removeTenantAccess": {"tenant": demo_project.id}}, format="json")
    assert resp.status_code == 200 and resp.json() == {"flavor_access": []}
    assert admin_client.post(url, {"removeTenantAccess": {"tenant": demo_project.id}}, format="json").status_code == 404
    assert member_client.get(f"{API}/flavors/priv-1").status_code == 404


def test_flavor_access_errors(admin_client, member_client, private_flavor):
    assert admin_client.get(f"{API}/flavors/1/os-flavor-access").status_code == 404  # public flavor
    assert member_client.get(f"{API}/flavors/priv-1/os-flavor-access").status_code == 403
    url = f"{API}/flavors/priv-1/action"
    assert admin_client.post(url, {"addTenantAccess": {"tenant": "no-such-project"}}, format="json").status_code == 400
    assert admin_client.post(url, {"addTenantAccess": {}}, format="json").status_code == 400
    assert admin_client.post(url, {"addTenantAccess": {"tenant": 5}}, format="json").status_code == 400
    assert admin_client.post(url, {"explode": {}}, format="json").status_code == 400
    assert member_client.post(url, {"addTenantAccess": {"tenant": "x"}}, format="json").status_code == 403
    resp = admin_client.post(f"{API}/flavors/1/action", {"addTenantAccess": {"tenant": _admin_project()}}, format="json")
    assert resp.status_code == 409


def _admin_project():
    from identity.models import Project

    return Project.objects.get(name="admin").id


def test_wrong_method_is_enveloped(member_client):
    resp = member_client.put(f"{API}/flavors", {}, format="json")
    assert resp.status_code == 405
    assert "badMethod" in resp.json()
