"""os-hosts (Nova 2.1-2.42) as an operator and a member see it: the list (zone filter), a
host's resources by project, enable/disable, and the actions libvirt cannot do."""
from datetime import timedelta

import pytest
from django.utils import timezone

from cloudproj.testing.servers import boot, error, make_active
from compute.models import Service
from compute.services import hosts

API = "/compute/v2.1"
RESOURCE_KEYS = {"host", "project", "cpu", "memory_mb", "disk_gb"}


@pytest.fixture
def cloud(compute_host):
    """host-a (zone nova), host-b (zone az2), a scheduler on the controller."""
    compute_host("host-a")
    compute_host("host-b", zone="az2")
    hosts.register_service("controller", "nova-scheduler")


def test_list_every_enabled_service_with_its_zone(admin_client, cloud):
    Service.objects.filter(host="host-b", binary="nova-volume").update(disabled=True)
    resp = admin_client.get(f"{API}/os-hosts")
    assert resp.status_code == 200
    assert set(resp.json()) == {"hosts"}
    rows = resp.json()["hosts"]
    assert all(set(row) == {"host_name", "service", "zone"} for row in rows)
    assert [(r["host_name"], r["service"], r["zone"]) for r in rows] == [
        ("controller", "scheduler", "internal"),
        ("host-a", "compute", "nova"), ("host-a", "network", "internal"), ("host-a", "volume", "internal"),
        ("host-b", "compute", "az2"), ("host-b", "network", "internal"),  # its disabled volume: not listed (Nova)
    ]


def test_list_by_zone(admin_client, cloud):
    def listed(query):
        resp = admin_client.get(f"{API}/os-hosts{query}")
        assert resp.status_code == 200
        return [(r["host_name"], r["service"]) for r in resp.json()["hosts"]]

    assert listed("?zone=az2") == [("host-b", "compute")]
    assert listed("?zone=nova") == [("host-a", "compute")]
    assert len(listed("?zone=internal")) == 5
    assert listed("?zone=xxx") == []  # an unknown zone: an empty list, not an error
    assert len(listed("?zone=")) == 7  # blank: every host


def test_show_resources_by_project(admin_client, member_client, member_account, other_client, cloud, image):
    for client, name in ((member_client, "a1"), (member_client, "a2"), (other_client, "b1")):
        make_active(boot(client, image, name)["server"]["id"], host="host-a")
    make_active(boot(member_client, image, "elsewhere")["server"]["id"], host="host-b")

    resp = admin_client.get(f"{API}/os-hosts/host-a")
    assert resp.status_code == 200
    assert set(resp.json()) == {"host"}
    rows = [item["resource"] for item in resp.json()["host"]]
    assert all(set(item) == {"resource"} for item in resp.json()["host"])
    assert all(set(row) == RESOURCE_KEYS and row["host"] == "host-a" for row in rows)
    total, used_now, used_max, *projects = rows
    assert (total["project"], used_now["project"], used_max["project"]) == ("(total)", "(used_now)", "(used_max)")
    assert total["cpu"] == 16 and total["memory_mb"] == 3072 and total["disk_gb"] > 0
    # flavor "1" (m1.tiny): 1 vCPU, 512 MB, no disk; three instances on host-a
    assert (used_max["cpu"], used_max["memory_mb"], used_max["disk_gb"]) == (3, 1536, 0)
    demo = str(member_account[1].id)
    by_project = {row["project"]: (row["cpu"], row["memory_mb"], row["disk_gb"]) for row in projects}
    assert by_project[demo] == (2, 1024, 0)
    assert len(by_project) == 2 and sorted(by_project.values()) == [(1, 512, 0), (2, 1024, 0)]
    assert all(isinstance(row[key], int) for row in rows for key in ("cpu", "memory_mb", "disk_gb"))


def test_show_unknown_host_is_404(admin_client, cloud):
    assert "nonexistent_hostname" in error(admin_client.get(f"{API}/os-hosts/nonexistent_hostname"), 404)


def test_update_status_toggles_the_compute_service(admin_client, cloud):
    resp = admin_client.put(f"{API}/os-hosts/host-a", {"status": "disable"}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"host": "host-a", "status": "disabled"}
    assert Service.objects.get(host="host-a", binary="nova-compute").disabled
    services = admin_client.get(f"{API}/os-services?host=host-a&binary=nova-compute").json()["services"]
    assert services[0]["status"] == "disabled"
    assert ("host-a", "compute") not in [(r["host_name"], r["service"])
                                         for r in admin_client.get(f"{API}/os-hosts").json()["hosts"]]

    resp = admin_client.put(f"{API}/os-hosts/host-a", {"status": "ENABLE"}, format="json")
    assert resp.json() == {"host": "host-a", "status": "enabled"}
    assert not Service.objects.get(host="host-a", binary="nova-compute").disabled


@pytest.mark.parametrize("body", [
    {}, {"status": "up"}, {"maintenance_mode": "on"}, {"status": "enable", "other": 1}, ["status"],
    {"status": True},
])
def test_update_bad_bodies_are_400(admin_client, cloud, body):
    error(admin_client.put(f"{API}/os-hosts/host-a", body, format="json"), 400)
    assert not Service.objects.get(host="host-a", binary="nova-compute").disabled


def test_update_unknown_host_is_404(admin_client, cloud):
    error(admin_client.put(f"{API}/os-hosts/nowhere", {"status": "enable"}, format="json"), 404)
    error(admin_client.put(f"{API}/os-hosts/controller", {"status": "enable"}, format="json"), 404)  # no compute


def test_maintenance_mode_is_not_implemented_and_changes_nothing(admin_client, cloud):
    resp = admin_client.put(f"{API}/os-hosts/host-a", {"status": "disable", "maintenance_mode": "enable"},
                            format="json")
    assert resp.status_code == 501
    assert resp.json() == {"notImplemented": {"code": 501, "message": "Feature not supported."}}
    assert not Service.objects.get(host="host-a", binary="nova-compute").disabled


@pytest.mark.parametrize("action", ["reboot", "shutdown", "startup"])
def test_power_actions(admin_client, cloud, action, settings):
    resp = admin_client.get(f"{API}/os-hosts/host-a/{action}")
    assert resp.status_code == 501
    assert resp.json()["notImplemented"]["message"] == "Feature not supported."
    error(admin_client.get(f"{API}/os-hosts/nowhere/{action}"), 404)
    stale = timezone.now() - timedelta(seconds=settings.SERVICE_DOWN_TIME + 5)
    Service.objects.filter(host="host-b").update(last_seen_up=stale)
    assert "unavailable" in error(admin_client.get(f"{API}/os-hosts/host-b/{action}"), 400)


def test_members_are_refused(member_client, cloud):
    for method, path, body in (("get", "/os-hosts", None), ("get", "/os-hosts/host-a", None),
                               ("put", "/os-hosts/host-a", {"status": "disable"}),
                               ("get", "/os-hosts/host-a/reboot", None), ("get", "/os-hosts/host-a/shutdown", None),
                               ("get", "/os-hosts/host-a/startup", None)):
        response = getattr(member_client, method)(f"{API}{path}", body, format="json")
        error(response, 403)
    assert not Service.objects.get(host="host-a", binary="nova-compute").disabled
