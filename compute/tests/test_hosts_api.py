"""os-services, os-hypervisors and os-availability-zone as an operator sees them."""
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from compute.models import ComputeNode, Service
from compute.services import hosts

API = "/compute/v2.1"


@pytest.fixture
def cloud(compute_host):
    """host-a (zone nova) and host-b (zone az2), plus a scheduler on the controller."""
    compute_host("host-a")
    compute_host("host-b", zone="az2")
    hosts.register_service("controller", "nova-scheduler")


def test_services_list(admin_client, cloud):
    resp = admin_client.get(f"{API}/os-services")
    assert resp.status_code == 200
    services = resp.json()["services"]
    assert len(services) == 7
    by_key = {(s["host"], s["binary"]): s for s in services}
    compute_a = by_key[("host-a", "nova-compute")]
    assert set(compute_a) == {"id", "binary", "host", "zone", "status", "state", "updated_at", "disabled_reason"}
    assert (compute_a["zone"], compute_a["status"], compute_a["state"]) == ("nova", "enabled", "up")
    assert compute_a["disabled_reason"] is None
    assert by_key[("host-b", "nova-compute")]["zone"] == "az2"
    assert by_key[("host-b", "nova-network")]["zone"] == "internal"
    assert by_key[("controller", "nova-scheduler")]["zone"] == "internal"

    only = admin_client.get(f"{API}/os-services?host=host-b&binary=nova-compute").json()["services"]
    assert [(s["host"], s["binary"]) for s in only] == [("host-b", "nova-compute")]


def test_services_state_follows_heartbeats(admin_client, cloud, settings):
    stale = timezone.now() - timedelta(seconds=settings.SERVICE_DOWN_TIME + 5)
    Service.objects.filter(host="host-a").update(last_seen_up=stale)
    Service.objects.filter(host="host-b", binary="nova-compute").update(forced_down=True)
    states = {(s["host"], s["binary"]): s["state"] for s in admin_client.get(f"{API}/os-services").json()["services"]}
    assert states[("host-a", "nova-compute")] == "down"
    assert states[("host-b", "nova-compute")] == "down"
    assert states[("host-b", "nova-network")] == "up"


def test_enable_disable(admin_client, cloud):
    body = {"host": "host-a", "binary": "nova-compute"}
    resp = admin_client.put(f"{API}/os-services/disable", body, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"service": {"host": "host-a", "binary": "nova-compute", "status": "disabled"}}

    resp = admin_client.put(
        f"{API}/os-services/disable-log-reason", {**body, "disabled_reason": "maintenance"}, format="json"
    )
    assert resp.json()["service"] == {
        "host": "host-a", "binary": "nova-compute", "status": "disabled", "disabled_reason": "maintenance",
    }
    listed = admin_client.get(f"{API}/os-services?host=host-a&binary=nova-compute").json()["services"][0]
    assert (listed["status"], listed["disabled_reason"]) == ("disabled", "maintenance")

    resp = admin_client.put(f"{API}/os-services/enable/", body, format="json")
    assert resp.json()["service"]["status"] == "enabled"
    assert Service.objects.get(host="host-a", binary="nova-compute").disabled_reason is None


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("disable", {"host": "nowhere", "binary": "nova-compute"}, 404),
        ("disable", {"host": "host-a"}, 400),
        ("disable", {"host": "host-a", "binary": 5}, 400),
        ("disable", {"host": "host-a", "binary": "nova-compute", "extra": 1}, 400),
        ("disable-log-reason", {"host": "host-a", "binary": "nova-compute"}, 400),
        ("disable-log-reason", {"host": "host-a", "binary": "nova-compute", "disabled_reason": ""}, 400),
        ("force-down", {"host": "host-a", "binary": "nova-compute"}, 404),
    ],
)
def test_service_update_errors(admin_client, cloud, path, body, status):
    resp = admin_client.put(f"{API}/os-services/{path}", body, format="json")
    assert resp.status_code == status
    assert next(iter(resp.json().values()))["code"] == status


def test_delete_service(admin_client, cloud):
    compute = Service.objects.get(host="host-a", binary="nova-compute")
    assert ComputeNode.objects.filter(host="host-a").exists()
    assert admin_client.delete(f"{API}/os-services/{compute.id}").status_code == 204
    assert not ComputeNode.objects.filter(host="host-a").exists()
    assert admin_client.delete(f"{API}/os-services/{compute.id}").status_code == 404
    assert admin_client.delete(f"{API}/os-services/abc").status_code == 400


def test_member_gets_403_on_operator_calls(member_client, cloud):
    for method, path in [
        ("get", "os-services"),
        ("put", "os-services/disable"),
        ("delete", "os-services/1"),
        ("get", "os-hypervisors"),
        ("get", "os-hypervisors/detail"),
        ("get", "os-hypervisors/statistics"),
        ("get", "os-hypervisors/1"),
        ("get", "os-availability-zone/detail"),
    ]:
        resp = getattr(member_client, method)(f"{API}/{path}", {}, format="json")
        assert resp.status_code == 403, path
        assert resp.json()["forbidden"]["code"] == 403


def test_hypervisors(admin_client, cloud):
    resp = admin_client.get(f"{API}/os-hypervisors")
    assert resp.status_code == 200
    hvs = resp.json()["hypervisors"]
    assert [h["hypervisor_hostname"] for h in hvs] == ["host-a", "host-b"]
    assert set(hvs[0]) == {"id", "hypervisor_hostname", "state", "status"}
    assert (hvs[0]["state"], hvs[0]["status"]) == ("up", "enabled")

    detail = admin_client.get(f"{API}/os-hypervisors/detail").json()["hypervisors"][0]
    # libvirt's test:///default node: 16 CPUs, 3072 MB.
    assert (detail["vcpus"], detail["memory_mb"], detail["hypervisor_type"]) == (16, 3072, "TEST")
    assert detail["vcpus_used"] == 0 and detail["memory_mb_used"] == 0
    assert detail["free_ram_mb"] == 3072 and detail["free_disk_gb"] == detail["local_gb"] > 0
    assert detail["running_vms"] == 1  # the test driver's default domain
    assert detail["service"]["host"] == "host-a" and detail["service"]["disabled_reason"] is None
    assert json.loads(detail["cpu_info"])["topology"] == {"sockets": 2, "cores": 2, "threads": 2}
    for key in ("hypervisor_version", "current_workload", "disk_available_least", "host_ip", "local_gb_used"):
        assert key in detail

    one = admin_client.get(f"{API}/os-hypervisors/{detail['id']}")
    assert one.status_code == 200 and one.json()["hypervisor"] == detail
    for bad in ("999999", "abc"):
        resp = admin_client.get(f"{API}/os-hypervisors/{bad}")
        assert resp.status_code == 404 and "itemNotFound" in resp.json()


def test_hypervisor_statistics_counts_enabled_hosts(admin_client, cloud):
    stats = admin_client.get(f"{API}/os-hypervisors/statistics").json()["hypervisor_statistics"]
    assert (stats["count"], stats["vcpus"], stats["memory_mb"], stats["running_vms"]) == (2, 32, 6144, 2)
    hosts.set_service_disabled("host-b", "nova-compute", True)
    stats = admin_client.get(f"{API}/os-hypervisors/statistics").json()["hypervisor_statistics"]
    assert (stats["count"], stats["vcpus"]) == (1, 16)
    assert admin_client.get(f"{API}/os-hypervisors").json()["hypervisors"][1]["status"] == "disabled"


def test_availability_zones(member_client, admin_client, cloud):
    resp = member_client.get(f"{API}/os-availability-zone")
    assert resp.status_code == 200
    assert resp.json() == {
        "availabilityZoneInfo": [
            {"zoneName": "az2", "zoneState": {"available": True}, "hosts": None},
            {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None},
        ]
    }
    hosts.set_service_disabled("host-b", "nova-compute", True)
    zones = {z["zoneName"]: z for z in member_client.get(f"{API}/os-availability-zone").json()["availabilityZoneInfo"]}
    assert zones["az2"]["zoneState"]["available"] is False

    detail = admin_client.get(f"{API}/os-availability-zone/detail").json()["availabilityZoneInfo"]
    zones = {z["zoneName"]: z for z in detail}
    assert set(zones) == {"az2", "internal", "nova"}
    assert set(zones["nova"]["hosts"]) == {"host-a"}
    compute = zones["nova"]["hosts"]["host-a"]["nova-compute"]
    assert compute["available"] is True and compute["active"] is True and compute["updated_at"]
    assert zones["az2"]["hosts"]["host-b"]["nova-compute"]["active"] is False
    assert set(zones["internal"]["hosts"]) == {"host-a", "host-b", "controller"}
    assert set(zones["internal"]["hosts"]["host-a"]) == {"nova-network", "nova-volume"}
    assert "nova-scheduler" in zones["internal"]["hosts"]["controller"]


def test_heartbeat_recreates_deleted_service_and_refreshes_capacity(compute_host):
    compute = compute_host("host-c")
    before = Service.objects.get(pk=compute.pk).report_count
    assert hosts.heartbeat(compute).pk == compute.pk
    assert Service.objects.get(pk=compute.pk).report_count == before + 1
    Service.objects.filter(pk=compute.pk).delete()
    again = hosts.heartbeat(compute)
    assert again.pk != compute.pk and again.binary == "nova-compute" and again.is_up


def test_uptime_is_asked_of_the_hosts_agent(admin_client, member_client, cloud, monkeypatch):
    import compute.tasks  # noqa: F401 - registers the agent's tasks
    from cloudproj import rpc, task_names
    from cloudproj.celery import app

    asked = []

    def agent_answers(host, task_name, *args, timeout=None, topic="compute"):
        """What rpc.call does with the host's agent running: its task, run here (no agent runs in
        this test; compute/virt/uptime.py runs the real `uptime` of this machine)."""
        asked.append((host, task_name, topic))
        return app.tasks[task_name](*args)

    monkeypatch.setattr(rpc, "call", agent_answers)
    nodes = {h["hypervisor_hostname"]: h for h in admin_client.get(f"{API}/os-hypervisors").json()["hypervisors"]}
    node = next(iter(nodes.values()))
    resp = admin_client.get(f"{API}/os-hypervisors/{node['id']}/uptime")
    assert resp.status_code == 200, resp.content
    body = resp.json()["hypervisor"]
    assert set(body) == {"id", "hypervisor_hostname", "state", "status", "uptime"}
    assert (body["id"], body["hypervisor_hostname"]) == (node["id"], node["hypervisor_hostname"])
    assert re.match(r"^ ?\d\d:\d\d:\d\d up .* load average", body["uptime"]), body["uptime"]
    host = ComputeNode.objects.get(pk=node["id"]).service.host
    assert asked == [(host, task_names.HOST_UPTIME, "compute")]

    # its compute service down: 400, nothing asked
    Service.objects.filter(host=host, binary="nova-compute").update(forced_down=True)
    down = admin_client.get(f"{API}/os-hypervisors/{node['id']}/uptime")
    assert down.status_code == 400 and "unavailable" in down.json()["badRequest"]["message"]
    assert len(asked) == 1
    assert admin_client.get(f"{API}/os-hypervisors/424242/uptime").status_code == 404
    assert member_client.get(f"{API}/os-hypervisors/{node['id']}/uptime").status_code == 403
    assert admin_client.get(f"{API}/os-aggregates").json() == {"aggregates": []}
    assert member_client.get(f"{API}/os-aggregates").status_code == 403


@pytest.mark.django_db
def test_hypervisor_search_and_servers(admin_client, member_client, cloud):
    from compute.models import Instance

    nodes = {h["hypervisor_hostname"]: h for h in admin_client.get(f"{API}/os-hypervisors").json()["hypervisors"]}
    name, node = next(iter(nodes.items()))
    pattern = name[1:-1] if len(name) > 2 else name
    found = admin_client.get(f"{API}/os-hypervisors/{pattern}/search")
    assert found.status_code == 200
    hypervisors = found.json()["hypervisors"]
    assert node in hypervisors and all(pattern in h["hypervisor_hostname"] for h in hypervisors)
    assert all(set(h) == {"id", "hypervisor_hostname", "state", "status"} for h in hypervisors)
    missing = admin_client.get(f"{API}/os-hypervisors/no-such-node/search")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()
    assert admin_client.get(f"{API}/os-hypervisors/no-such-node/servers").status_code == 404
    assert member_client.get(f"{API}/os-hypervisors/{pattern}/search").status_code == 403
    assert member_client.get(f"{API}/os-hypervisors/{pattern}/servers").status_code == 403

    # no servers: no `servers` key
    empty = admin_client.get(f"{API}/os-hypervisors/{name}/servers").json()["hypervisors"]
    assert {"id", "hypervisor_hostname", "state", "status"} == set(empty[0])
    compute_node = ComputeNode.objects.get(pk=node["id"])
    instance = Instance.objects.create(
        display_name="vm", project_id="p", user_id="u", host=compute_node.service.host,
        node=compute_node.hypervisor_hostname, reservation_id="r-1", flavorid="1", flavor_name="m1.tiny",
        memory_mb=512, vcpus=1,
    )
    (with_server,) = [h for h in admin_client.get(f"{API}/os-hypervisors/{name}/servers").json()["hypervisors"]
                      if h["id"] == node["id"]]
    assert with_server["servers"] == [{"name": instance.name, "uuid": str(instance.uuid)}]
