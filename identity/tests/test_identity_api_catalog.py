"""Identity v3 regions, services and endpoints: the catalog in tokens is built from them."""
import pytest
from django.test import override_settings

from cloudproj.testing.clients import TokenClient
from identity.models import Endpoint, Service
from identity.services import catalog

pytestmark = pytest.mark.django_db


def scoped_login(client, name="admin", project="admin"):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": name, "domain": {"id": "default"}, "password": "secret-pass"}},
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    response = client.post("/v3/auth/tokens", body, format="json")
    assert response.status_code == 201, response.content
    return response


def test_seeded_from_services_tuple(admin_client, admin_account):
    types = {s["type"] for s in admin_client.get("/v3/services").json()["services"]}
    assert types == {service_type for service_type, _, _ in catalog.SERVICES}
    endpoints = admin_client.get("/v3/endpoints?interface=public").json()["endpoints"]
    assert len(endpoints) == len(catalog.SERVICES)
    compute = Service.objects.get(type="compute")
    listed = admin_client.get(f"/v3/endpoints?service_id={compute.id}&interface=public").json()["endpoints"]
    assert listed == [
        {
            "id": listed[0]["id"],
            "interface": "public",
            "region": "RegionOne",
            "region_id": "RegionOne",
            "service_id": compute.id,
            "url": "http://testserver/compute/v2.1",
            "enabled": True,
            "links": {"self": f"http://testserver/identity/v3/endpoints/{listed[0]['id']}"},
        }
    ]
    # A block-storage endpoint keeps its per-project template until a token fills it in.
    storage = Service.objects.get(type="block-storage")
    assert Endpoint.objects.filter(service=storage, url="/volume/v3/{project_id}").count() == 3


def test_new_services_line_is_seeded_at_run_time(monkeypatch, admin_client):
    monkeypatch.setattr(catalog, "SERVICES", catalog.SERVICES + (("network", "neutron", "/network"),))
    catalog.ensure_catalog()
    catalog.ensure_catalog()  # idempotent
    services = admin_client.get("/v3/services?type=network").json()["services"]
    assert [(s["type"], s["name"]) for s in services] == [("network", "neutron")]


@pytest.mark.parametrize("prefix", ["/v3", "/identity/v3"])
def test_operator_registers_a_region_service_and_endpoint(admin_client, admin_account, prefix, anon_client):
    response = admin_client.post(f"{prefix}/regions", {"region": {"id": "RegionTwo", "description": "2"}}, format="json")
    assert response.status_code == 201
    assert response.json()["region"] | {"links": {}} == {
        "id": "RegionTwo", "description": "2", "parent_region_id": None, "links": {}
    }
    assert admin_client.post("/v3/regions", {"region": {"id": "RegionTwo"}}, format="json").status_code == 409
    child = admin_client.put("/v3/regions/Edge1", {"region": {"parent_region_id": "RegionTwo"}}, format="json")
    assert child.status_code == 201 and child.json()["region"]["parent_region_id"] == "RegionTwo"
    loop = admin_client.patch("/v3/regions/RegionTwo", {"region": {"parent_region_id": "Edge1"}}, format="json")
    assert loop.status_code == 400
    assert {r["id"] for r in admin_client.get("/v3/regions").json()["regions"]} == {"RegionOne", "RegionTwo", "Edge1"}

    service = admin_client.post(
        "/v3/services", {"service": {"type": "dns", "name": "designate", "description": "DNS"}}, format="json"
    )
    assert service.status_code == 201
    sid = service.json()["service"]["id"]
    assert service.json()["service"] | {"id": "x", "links": {}} == {
        "id": "x", "type": "dns", "name": "designate", "description": "DNS", "enabled": True, "links": {}
    }
    endpoint = admin_client.post(
        "/v3/endpoints",
        {"endpoint": {"service_id": sid, "interface": "public", "region_id": "RegionTwo",
                      "url": "https://dns.example.com:9001/v2/$(project_id)s"}},
        format="json",
    )
    assert endpoint.status_code == 201
    eid = endpoint.json()["endpoint"]["id"]
    assert endpoint.json()["endpoint"]["region"] == "RegionTwo"

    token = scoped_login(anon_client)
    project_id = token.json()["token"]["project"]["id"]
    dns = [s for s in token.json()["token"]["catalog"] if s["type"] == "dns"]
    assert dns == [
        {
            "id": sid,
            "type": "dns",
            "name": "designate",
            "endpoints": [
                {"id": eid, "interface": "public", "region": "RegionTwo", "region_id": "RegionTwo",
                 "url": f"https://dns.example.com:9001/v2/{project_id}"}
            ],
        }
    ]
    user_client = TokenClient(token.headers["X-Subject-Token"])
    assert any(s["type"] == "dns" for s in user_client.get("/v3/auth/catalog").json()["catalog"])

    # Disable the service: it leaves the catalog; delete it: its endpoints go too.
    assert admin_client.patch(f"/v3/services/{sid}", {"service": {"enabled": False}}, format="json").status_code == 200
    assert not any(s["type"] == "dns" for s in user_client.get("/v3/auth/catalog").json()["catalog"])
    assert admin_client.delete("/v3/regions/RegionTwo").status_code == 409  # still used
    assert admin_client.delete(f"/v3/services/{sid}").status_code == 204
    assert admin_client.get(f"/v3/endpoints/{eid}").status_code == 404
    assert admin_client.delete("/v3/regions/Edge1").status_code == 204
    assert admin_client.delete("/v3/regions/RegionTwo").status_code == 204


def test_endpoint_update_moves_the_catalog(admin_client, admin_account, anon_client):
    compute = Service.objects.get(type="compute")
    public = Endpoint.objects.get(service=compute, interface="public")
    response = admin_client.patch(
        f"/v3/endpoints/{public.id}", {"endpoint": {"url": "https://nova.example.com/v2.1"}}, format="json"
    )
    assert response.status_code == 200 and response.json()["endpoint"]["url"] == "https://nova.example.com/v2.1"
    token = scoped_login(anon_client).json()["token"]
    urls = {e["interface"]: e["url"] for s in token["catalog"] if s["type"] == "compute" for e in s["endpoints"]}
    assert urls == {
        "public": "https://nova.example.com/v2.1",
        "internal": "http://testserver/compute/v2.1",
        "admin": "http://testserver/compute/v2.1",
    }


@override_settings(PUBLIC_ENDPOINT="https://cloud.example.org:8774")
def test_relative_endpoints_follow_public_endpoint(admin_client, admin_account, anon_client):
    token = scoped_login(anon_client).json()["token"]
    project_id = token["project"]["id"]
    volume = next(s for s in token["catalog"] if s["type"] == "block-storage")
    assert {e["url"] for e in volume["endpoints"]} == {f"https://cloud.example.org:8774/volume/v3/{project_id}"}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v3/regions", {"region": {"id": "bad id/x"}}),
        ("/v3/regions", {"region": {"parent_region_id": "nope"}}),
        ("/v3/regions", {"region": "x"}),
        ("/v3/services", {"service": {"name": "no type"}}),
        ("/v3/services", {"service": {"type": ""}}),
        ("/v3/services", {"service": {"type": "x", "enabled": "yes"}}),
        ("/v3/endpoints", {"endpoint": {"interface": "public", "url": "http://x"}}),
        ("/v3/endpoints", {"endpoint": {"service_id": "nope", "interface": "public", "url": "http://x"}}),
        ("/v3/endpoints", {"endpoint": {"service_id": "S", "interface": "sideways", "url": "http://x"}}),
        ("/v3/endpoints", {"endpoint": {"service_id": "S", "interface": "public", "url": "ftp://x"}}),
        ("/v3/endpoints", {"endpoint": {"service_id": "S", "interface": "public", "url": "http://a b"}}),
        ("/v3/endpoints", {"endpoint": {"service_id": "S", "interface": "public", "url": "/x", "region_id": "no"}}),
    ],
)
def test_bad_catalog_bodies_are_400(admin_client, path, body):
    service = Service.objects.get(type="compute")
    if isinstance(body.get("endpoint"), dict) and body["endpoint"].get("service_id") == "S":
        body["endpoint"]["service_id"] = service.id
    response = admin_client.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == 400


def test_catalog_admin_calls_need_admin(member_client):
    assert member_client.get("/v3/services").status_code == 403
    assert member_client.get("/v3/endpoints").status_code == 403
    assert member_client.post("/v3/regions", {"region": {}}, format="json").status_code == 403
    assert member_client.get("/v3/regions").status_code == 200
    assert member_client.get("/v3/endpoints/nope").status_code == 403


def test_the_legacy_region_attribute_creates_a_missing_region(admin_client, admin_account):
    """Keystone (tempest EndPointsTestJSON): `region` names a region created when missing;
    `region_id` must exist; a refused endpoint leaves no region behind."""
    from identity.models import Region

    service = Service.objects.get(type="compute")
    body = {"endpoint": {"service_id": service.id, "interface": "public", "url": "/x", "region": "tempest-r1"}}
    response = admin_client.post("/v3/endpoints", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["endpoint"]["region_id"] == "tempest-r1"
    assert admin_client.get("/v3/regions/tempest-r1").status_code == 200
    refused = {"endpoint": {"service_id": service.id, "interface": "public", "url": "ftp://x", "region": "tempest-r2"}}
    assert admin_client.post("/v3/endpoints", refused, format="json").status_code == 400
    bad_name = {"endpoint": {"service_id": service.id, "interface": "public", "url": "/x", "region": "a b"}}
    assert admin_client.post("/v3/endpoints", bad_name, format="json").status_code == 400
    assert not Region.objects.filter(pk__in=["tempest-r2", "a b"]).exists()
    moved = admin_client.patch(f"/v3/endpoints/{response.json()['endpoint']['id']}",
                               {"endpoint": {"region": "tempest-r3"}}, format="json")
    assert moved.status_code == 200 and moved.json()["endpoint"]["region_id"] == "tempest-r3"
