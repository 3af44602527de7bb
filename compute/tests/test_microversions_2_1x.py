"""Compute microversions from 2.12 on as a client sees them: each step's body changes at its
version and not below it, with the bodies of Nova's api_samples for that version."""
from datetime import timedelta

import pytest
from django.utils import timezone

from cloudproj.testing.servers import API, boot
from compute.models import Instance, Service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path (every test here)."""


def v(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def call(method, path, version, body=None, status=200):
    response = method(f"{API}/{path}", body, format="json", **v(version)) if body is not None else method(
        f"{API}/{path}", **v(version))
    assert response.status_code == status, response.content
    assert response["OpenStack-API-Version"] == f"compute {version}"
    return response.json() if response.content else None


def test_2_13_server_groups_show_their_project_and_user(member_client, member_account):
    user, project, _token = member_account
    req = {"server_group": {"name": "test", "policies": ["anti-affinity"]}}
    old = call(member_client.post, "os-server-groups", "2.12", req)["server_group"]
    assert set(old) == {"id", "name", "policies", "members", "metadata"}

    made = call(member_client.post, "os-server-groups", "2.13", req)["server_group"]
    # doc/api_samples/os-server-groups/v2.13/server-groups-post-resp.json
    assert made == {"id": made["id"], "name": "test", "policies": ["anti-affinity"], "members": [], "metadata": {},
                    "project_id": project.id, "user_id": user.id}
    assert call(member_client.get, f"os-server-groups/{made['id']}", "2.13")["server_group"] == made
    listed = call(member_client.get, "os-server-groups", "2.13")["server_groups"]
    assert [g["id"] for g in listed] == [old["id"], made["id"]]
    assert all(g["project_id"] == project.id and g["user_id"] == user.id for g in listed)
    assert "project_id" not in call(member_client.get, f"os-server-groups/{made['id']}", "2.12")["server_group"]


@pytest.mark.parametrize("policy", ["soft-affinity", "soft-anti-affinity"])
def test_2_15_soft_policies(member_client, policy):
    req = {"server_group": {"name": "soft", "policies": [policy]}}
    refused = member_client.post(f"{API}/os-server-groups", req, format="json", **v("2.14"))
    assert refused.status_code == 400 and "badRequest" in refused.json()
    assert call(member_client.get, "os-server-groups", "2.14")["server_groups"] == []

    made = call(member_client.post, "os-server-groups", "2.15", req)["server_group"]
    assert made["policies"] == [policy] and made["members"] == []
    assert call(member_client.get, f"os-server-groups/{made['id']}", "2.15")["server_group"]["policies"] == [policy]
    bad = member_client.post(f"{API}/os-server-groups", {"server_group": {"name": "x", "policies": ["soft"]}},
                             format="json", **v("2.15"))
    assert bad.status_code == 400


def test_2_16_host_status_for_admins(admin_client, member_client, image, compute_host):
    service = compute_host("host-a")
    server_id = boot(member_client, image, "web")["server"]["id"]
    url = f"servers/{server_id}"

    # not placed yet: "" for an admin; never shown below 2.16 nor to a member
    assert call(admin_client.get, url, "2.16")["server"]["host_status"] == ""
    assert "host_status" not in call(admin_client.get, url, "2.15")["server"]
    assert "host_status" not in call(member_client.get, url, "2.16")["server"]

    Instance.objects.filter(uuid=server_id).update(host="host-a", node="host-a")
    assert call(admin_client.get, url, "2.16")["server"]["host_status"] == "UP"
    listed = call(admin_client.get, "servers/detail?all_tenants=1", "2.16")["servers"]
    assert [s["host_status"] for s in listed] == ["UP"]
    assert "host_status" not in call(admin_client.get, "servers?all_tenants=1", "2.16")["servers"][0]
    assert "host_status" not in call(member_client.get, "servers/detail", "2.16")["servers"][0]

    Service.objects.filter(pk=service.pk).update(disabled=True)
    assert call(admin_client.get, url, "2.16")["server"]["host_status"] == "MAINTENANCE"
    Service.objects.filter(pk=service.pk).update(forced_down=True)
    assert call(admin_client.get, url, "2.16")["server"]["host_status"] == "DOWN"
    Service.objects.filter(pk=service.pk).update(forced_down=False, disabled=False,
                                                 last_seen_up=timezone.now() - timedelta(days=1))
    assert call(admin_client.get, url, "2.16")["server"]["host_status"] == "UNKNOWN"
    # what update answers has no host_status before 2.75
    renamed = call(admin_client.put, url, "2.16", {"server": {"name": "www"}})["server"]
    assert "host_status" not in renamed
