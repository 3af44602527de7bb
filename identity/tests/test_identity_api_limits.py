"""Identity v3 unified limits as data: registered limits, project limits, the limit model."""
import pytest

from identity.models import Service

pytestmark = pytest.mark.django_db


def test_registered_and_project_limits(admin_client, member_client, member_account):
    project = member_account[1]
    compute = Service.objects.get(type="compute")
    response = admin_client.post(
        "/v3/registered_limits",
        {"registered_limits": [{"service_id": compute.id, "region_id": "RegionOne", "resource_name": "cores",
                                "default_limit": 20, "description": "vCPUs"}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    registered = response.json()["registered_limits"][0]
    assert registered == {
        "id": registered["id"], "service_id": compute.id, "region_id": "RegionOne", "resource_name": "cores",
        "default_limit": 20, "description": "vCPUs",
        "links": {"self": f"http://testserver/identity/v3/registered_limits/{registered['id']}"},
    }
    dup = admin_client.post("/v3/registered_limits", {"registered_limits": [
        {"service_id": compute.id, "region_id": "RegionOne", "resource_name": "cores", "default_limit": 1}]},
        format="json")
    assert dup.status_code == 409
    assert [r["id"] for r in member_client.get("/v3/registered_limits?resource_name=cores").json()
            ["registered_limits"]] == [registered["id"]]
    patched = admin_client.patch(f"/v3/registered_limits/{registered['id']}",
                                 {"registered_limit": {"default_limit": 30}}, format="json")
    assert patched.status_code == 200 and patched.json()["registered_limit"]["default_limit"] == 30

    response = admin_client.post("/v3/limits", {"limits": [
        {"project_id": project.id, "service_id": compute.id, "region_id": "RegionOne", "resource_name": "cores",
         "resource_limit": 8}]}, format="json")
    assert response.status_code == 201, response.content
    limit = response.json()["limits"][0]
    assert limit["project_id"] == project.id and limit["resource_limit"] == 8 and limit["domain_id"] is None
    assert [x["id"] for x in member_client.get("/v3/limits").json()["limits"]] == [limit["id"]]
    assert member_client.get(f"/v3/limits/{limit['id']}").json()["limit"]["resource_limit"] == 8
    assert member_client.patch(f"/v3/limits/{limit['id']}", {"limit": {"resource_limit": 9}},
                               format="json").status_code == 403
    assert admin_client.patch(f"/v3/limits/{limit['id']}", {"limit": {"resource_limit": 9}},
                              format="json").json()["limit"]["resource_limit"] == 9
    assert admin_client.delete(f"/v3/registered_limits/{registered['id']}").status_code == 409
    assert admin_client.delete(f"/v3/limits/{limit['id']}").status_code == 204
    assert admin_client.delete(f"/v3/registered_limits/{registered['id']}").status_code == 204
    assert admin_client.get(f"/v3/registered_limits/{registered['id']}").status_code == 404


def test_other_projects_limits_are_hidden(admin_client, other_client, member_account):
    compute = Service.objects.get(type="compute")
    admin_client.post("/v3/registered_limits", {"registered_limits": [
        {"service_id": compute.id, "resource_name": "ram", "default_limit": 1024}]}, format="json")
    limit = admin_client.post("/v3/limits", {"limits": [
        {"project_id": member_account[1].id, "service_id": compute.id, "resource_name": "ram",
         "resource_limit": 10}]}, format="json").json()["limits"][0]
    assert other_client.get("/v3/limits").json()["limits"] == []
    assert other_client.get(f"/v3/limits/{limit['id']}").status_code == 404


def test_limit_model(member_client):
    assert member_client.get("/v3/limits/model").json()["model"]["name"] == "flat"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v3/registered_limits", {"registered_limits": []}),
        ("/v3/registered_limits", {"registered_limits": [{"service_id": "S", "resource_name": "x"}]}),
        ("/v3/registered_limits", {"registered_limits": [{"service_id": "nope", "resource_name": "x",
                                                          "default_limit": 1}]}),
        ("/v3/registered_limits", {"registered_limits": [{"service_id": "S", "resource_name": "x",
                                                          "default_limit": "many"}]}),
        ("/v3/registered_limits", {"registered_limits": [{"service_id": "S", "resource_name": "x",
                                                          "default_limit": 1, "region_id": "Nowhere"}]}),
        ("/v3/limits", {"limits": [{"project_id": "P", "service_id": "S", "resource_name": "unregistered",
                                    "resource_limit": 1}]}),
        ("/v3/limits", {"limits": {"project_id": "P"}}),
    ],
)
def test_bad_limit_bodies(admin_client, member_account, path, body):
    service_id = Service.objects.get(type="compute").id
    key = next(iter(body))
    if isinstance(body[key], list):
        for ref in body[key]:
            if ref.get("service_id") == "S":
                ref["service_id"] = service_id
            if ref.get("project_id") == "P":
                ref["project_id"] = member_account[1].id
    response = admin_client.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == 400
