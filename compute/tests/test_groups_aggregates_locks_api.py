"""The compute API of server groups, host aggregates, lock/unlock, server diagnostics and
os-migrations as users and operators see it (Nova's 2.1 bodies, as tempest's schemas check):
real views, services and PostgreSQL. Only the broker round trip of the diagnostics call is
skipped (the host's task runs in-process on libvirt's test driver)."""
import uuid

import pytest

from cloudproj.testing.servers import API, act, boot, error, make_active, show
from compute.models import Migration, Service, ServerGroupMember

GROUP_KEYS = {"id", "name", "policies", "members", "metadata"}
AGGREGATE_KEYS = {"availability_zone", "created_at", "deleted", "deleted_at", "id", "name", "updated_at"}


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store and instances under this test's tmp_path."""


# --- server groups -------------------------------------------------------------------------------


def test_server_group_create_show_list_delete(member_client, other_client, admin_client):
    resp = member_client.post(f"{API}/os-server-groups", {"server_group": {"name": "web", "policies": ["anti-affinity"]}},
                              format="json")
    assert resp.status_code == 200, resp.content
    group = resp.json()["server_group"]
    assert set(group) == GROUP_KEYS
    assert (group["name"], group["policies"], group["members"], group["metadata"]) == ("web", ["anti-affinity"], [], {})
    # the same name again is fine (Nova)
    assert member_client.post(f"{API}/os-server-groups", {"server_group": {"name": "web", "policies": ["affinity"]}},
                              format="json").status_code == 200
    listed = member_client.get(f"{API}/os-server-groups").json()["server_groups"]
    assert [g["policies"] for g in listed] == [["anti-affinity"], ["affinity"]]
    assert member_client.get(f"{API}/os-server-groups/{group['id']}").json()["server_group"] == group
    # another project neither sees nor deletes it; an admin lists it with all_projects
    assert other_client.get(f"{API}/os-server-groups").json() == {"server_groups": []}
    error(other_client.get(f"{API}/os-server-groups/{group['id']}"), 404)
    error(other_client.delete(f"{API}/os-server-groups/{group['id']}"), 404)
    assert len(admin_client.get(f"{API}/os-server-groups?all_projects=True").json()["server_groups"]) == 2
    assert member_client.get(f"{API}/os-server-groups?limit=1&offset=1").json()["server_groups"][0]["policies"] == [
        "affinity"]
    assert member_client.delete(f"{API}/os-server-groups/{group['id']}").status_code == 204
    error(member_client.get(f"{API}/os-server-groups/{group['id']}"), 404)
    error(member_client.get(f"{API}/os-server-groups/not-a-uuid"), 404)


@pytest.mark.parametrize("body", [
    {"server_group": {"name": "x", "policies": ["soft-affinity"]}},  # 2.15
    {"server_group": {"name": "x", "policies": ["affinity", "anti-affinity"]}},
    {"server_group": {"name": "x", "policies": []}},
    {"server_group": {"name": "x", "policy": "affinity"}},  # 2.64
    {"server_group": {"name": "", "policies": ["affinity"]}},
    {"server_group": {"name": "x" * 256, "policies": ["affinity"]}},
    {"server_group": {"policies": ["affinity"]}},
    {"group": {}},
])
def test_server_group_bad_bodies_are_400(member_client, body):
    error(member_client.post(f"{API}/os-server-groups", body, format="json"), 400)


def test_members_join_with_the_group_hint_and_leave_when_deleted(member_client, other_client, image):
    group = member_client.post(f"{API}/os-server-groups", {"server_group": {"name": "g", "policies": ["affinity"]}},
                               format="json").json()["server_group"]
    first = boot(member_client, image, "a", hints={"group": group["id"]})["server"]["id"]
    second = boot(member_client, image, "b", hints={"group": group["id"]})["server"]["id"]
    members = member_client.get(f"{API}/os-server-groups/{group['id']}").json()["server_group"]["members"]
    assert members == [first, second]
    assert member_client.delete(f"{API}/servers/{second}").status_code == 204
    members = member_client.get(f"{API}/os-server-groups/{group['id']}").json()["server_group"]["members"]
    assert members == [first]
    # an unknown group, another project's group, or a non-uuid: 400, nothing created
    boot(member_client, image, "c", status=400, hints={"group": str(uuid.uuid4())})
    boot(other_client, image, "d", status=400, hints={"group": group["id"]})
    boot(member_client, image, "e", status=400, hints={"group": "nope"})
    assert ServerGroupMember.objects.count() == 2


# --- aggregates ----------------------------------------------------------------------------------


@pytest.fixture
def hosts(compute_host):
    compute_host("host-a")
    compute_host("host-b")


def test_aggregate_lifecycle_and_zone(admin_client, member_client, hosts):
    resp = admin_client.post(f"{API}/os-aggregates", {"aggregate": {"name": "rack1", "availability_zone": "az1"}},
                             format="json")
    assert resp.status_code == 200, resp.content
    created = resp.json()["aggregate"]
    assert set(created) == AGGREGATE_KEYS
    assert (created["name"], created["availability_zone"], created["deleted"]) == ("rack1", "az1", False)
    agg = created["id"]

    def zones():
        return sorted(z["zoneName"] for z in member_client.get(f"{API}/os-availability-zone").json()[
            "availabilityZoneInfo"])

    assert zones() == ["nova"]  # a zone without hosts is not listed
    resp = admin_client.post(f"{API}/os-aggregates/{agg}/action", {"add_host": {"host": "host-b"}}, format="json")
    assert resp.status_code == 200, resp.content
    body = resp.json()["aggregate"]
    assert set(body) == AGGREGATE_KEYS | {"hosts", "metadata"}
    assert body["hosts"] == ["host-b"] and body["metadata"] == {"availability_zone": "az1"}
    assert zones() == ["az1", "nova"]
    assert Service.objects.get(host="host-b", binary="nova-compute").availability_zone == "az1"
    # the agent re-registering (restart) keeps the aggregate's zone
    from compute.services import hosts as host_service
    host_service.register_service("host-b", "nova-compute", "elsewhere")
    assert Service.objects.get(host="host-b", binary="nova-compute").availability_zone == "az1"
    # rename and move the zone: the host follows
    resp = admin_client.put(f"{API}/os-aggregates/{agg}", {"aggregate": {"name": "rack1b", "availability_zone": "az9"}},
                            format="json")
    assert resp.status_code == 200
    assert resp.json()["aggregate"]["updated_at"] is not None
    assert zones() == ["az9", "nova"]
    # metadata: set, then remove with null
    resp = admin_client.post(f"{API}/os-aggregates/{agg}/action",
                             {"set_metadata": {"metadata": {"ssd": "true", "k": "v"}}}, format="json")
    assert resp.json()["aggregate"]["metadata"] == {"availability_zone": "az9", "ssd": "true", "k": "v"}
    resp = admin_client.post(f"{API}/os-aggregates/{agg}/action", {"set_metadata": {"metadata": {"k": None}}},
                             format="json")
    assert resp.json()["aggregate"]["metadata"] == {"availability_zone": "az9", "ssd": "true"}
    listed = admin_client.get(f"{API}/os-aggregates").json()["aggregates"]
    assert [(a["id"], a["name"], a["availability_zone"], a["hosts"]) for a in listed] == [
        (agg, "rack1b", "az9", ["host-b"])]
    # not while it has hosts
    error(admin_client.delete(f"{API}/os-aggregates/{agg}"), 400)
    assert admin_client.post(f"{API}/os-aggregates/{agg}/action", {"remove_host": {"host": "host-b"}},
                             format="json").json()["aggregate"]["hosts"] == []
    assert zones() == ["nova"]
    assert admin_client.delete(f"{API}/os-aggregates/{agg}").status_code == 200
    error(admin_client.get(f"{API}/os-aggregates/{agg}"), 404)
    # the name is free again
    assert admin_client.post(f"{API}/os-aggregates", {"aggregate": {"name": "rack1b"}}, format="json").status_code == 200


def test_aggregate_errors(admin_client, member_client, hosts):
    agg = admin_client.post(f"{API}/os-aggregates", {"aggregate": {"name": "a1", "availability_zone": "z1"}},
                            format="json").json()["aggregate"]["id"]
    other = admin_client.post(f"{API}/os-aggregates", {"aggregate": {"name": "a2", "availability_zone": "z2"}},
                              format="json").json()["aggregate"]["id"]
    plain = admin_client.post(f"{API}/os-aggregates", {"aggregate": {"name": "a3"}}, format="json").json()["aggregate"]
    assert plain["availability_zone"] is None

    def action(agg_id, body, client=admin_client):
        return client.post(f"{API}/os-aggregates/{agg_id}/action", body, format="json")

    error(admin_client.post(f"{API}/os-aggregates", {"aggregate": {"name": "a1"}}, format="json"), 409)
    for bad in ({"aggregate": {"name": ""}}, {"aggregate": {"name": "x" * 256}}, {"aggregate": {}},
                {"aggregate": {"name": "x", "availability_zone": "internal"}}, {"aggregate": {"name": "x", "x": 1}}):
        error(admin_client.post(f"{API}/os-aggregates", bad, format="json"), 400)
    error(member_client.post(f"{API}/os-aggregates", {"aggregate": {"name": "m"}}, format="json"), 403)
    error(member_client.get(f"{API}/os-aggregates/{agg}"), 403)
    error(action(agg, {"add_host": {"host": "host-a"}}, member_client), 403)
    error(admin_client.get(f"{API}/os-aggregates/-1"), 404)
    error(admin_client.delete(f"{API}/os-aggregates/-1"), 404)
    error(admin_client.get(f"{API}/os-aggregates/abc"), 404)
    error(action(agg, {"add_host": {"host": "no-such-host"}}), 404)
    assert action(agg, {"add_host": {"host": "host-a"}}).status_code == 200
    error(action(agg, {"add_host": {"host": "host-a"}}), 409)  # already there
    error(action(other, {"add_host": {"host": "host-a"}}), 409)  # in another zone
    assert action(plain["id"], {"add_host": {"host": "host-a"}}).status_code == 200  # no zone: fine
    error(action(plain["id"], {"set_metadata": {"metadata": {"availability_zone": "z2"}}}), 400)
    error(action(agg, {"remove_host": {"host": "host-b"}}), 404)
    error(action(agg, {"frobnicate": {}}), 400)
    error(admin_client.put(f"{API}/os-aggregates/{other}", {"aggregate": {"name": "a1"}}, format="json"), 409)
    error(admin_client.put(f"{API}/os-aggregates/{other}", {"aggregate": {}}, format="json"), 400)


def test_aggregate_zone_decides_where_a_server_lands(admin_client, member_client, hosts, image):
    from compute.scheduler.claims import schedule_and_claim
    from compute.models import Instance

    agg = admin_client.post(f"{API}/os-aggregates", {"aggregate": {"name": "b", "availability_zone": "zone-b"}},
                            format="json").json()["aggregate"]["id"]
    admin_client.post(f"{API}/os-aggregates/{agg}/action", {"add_host": {"host": "host-b"}}, format="json")
    server = boot(member_client, image, "in-b", availability_zone="zone-b")["server"]["id"]
    assert schedule_and_claim(Instance.objects.get(uuid=server)).host == "host-b"
    boot(member_client, image, "nowhere", status=400, availability_zone="zone-x")


# --- lock / unlock -------------------------------------------------------------------------------


def test_locked_server_refuses_a_members_stop_but_not_an_admins(member_client, admin_client, server):
    make_active(server)
    assert act(member_client, server, {"lock": None}).status_code == 202
    assert show(member_client, server)["status"] == "ACTIVE"
    assert "is locked" in error(act(member_client, server, {"os-stop": None}), 409)
    error(member_client.delete(f"{API}/servers/{server}"), 409)
    assert act(member_client, server, {"unlock": {}}).status_code == 202
    assert act(member_client, server, {"lock": {}}).status_code == 202
    from cloudproj import rpc
    sent = []
    original = rpc.instance_action
    rpc.instance_action = lambda *args: sent.append(args)
    try:
        assert act(admin_client, server, {"os-stop": None}).status_code == 202
    finally:
        rpc.instance_action = original
    assert sent and sent[0][3] == "stop"


def test_owner_cannot_unlock_what_an_admin_locked(member_client, admin_client, server):
    make_active(server)
    assert act(admin_client, server, {"lock": None}).status_code == 202
    error(act(member_client, server, {"unlock": None}), 403)
    assert act(admin_client, server, {"unlock": None}).status_code == 202
    error(act(member_client, server, {"lock": {"locked_reason": "x"}}), 400)  # a reason needs 2.73
    actions = [a["action"] for a in member_client.get(f"{API}/servers/{server}/os-instance-actions").json()[
        "instanceActions"]]
    assert actions[:2] == ["unlock", "lock"]


def test_lock_of_another_projects_server_is_404(other_client, server):
    error(act(other_client, server, {"lock": None}), 404)


# --- diagnostics and migrations ------------------------------------------------------------------


@pytest.fixture
def host_answers(monkeypatch):
    """The host's agent answering rpc.call: its task runs in-process on libvirt's test driver
    (only the broker round trip is skipped)."""
    import compute.tasks  # noqa: F401 - registers the tasks
    from cloudproj import rpc
    from cloudproj.celery import app
    from compute.services import host_resources
    from compute.virt.libvirt_driver import LibvirtDriver

    driver = LibvirtDriver("test:///default", host="host-a")
    monkeypatch.setattr(host_resources, "_driver", driver)
    monkeypatch.setattr(rpc, "call", lambda host, name, *args, timeout=None: app.tasks[name].run(*args))
    return driver


def test_diagnostics(admin_client, member_client, server, host_answers):
    error(admin_client.get(f"{API}/servers/{server}/diagnostics"), 409)  # no host yet
    row = make_active(server)
    error(admin_client.get(f"{API}/servers/{server}/diagnostics"), 409)  # no domain on the host
    xml = (f"<domain type='test'><name>{row.name}</name><uuid>{row.uuid}</uuid><memory>524288</memory>"
           "<vcpu>1</vcpu><os><type>hvm</type></os><devices><disk type='file' device='disk'>"
           "<source file='/tmp/x.img'/><target dev='vda' bus='virtio'/></disk>"
           "<interface type='network'><source network='default'/><target dev='tap1'/></interface>"
           "</devices></domain>")
    host_answers.conn.createXML(xml, 0)
    try:
        resp = admin_client.get(f"{API}/servers/{server}/diagnostics")
        assert resp.status_code == 200, resp.content
        body = resp.json()
        assert body["memory"] == 524288 and "cpu0_time" in body
        assert {"vda_read", "vda_write", "vda_read_req", "vda_write_req", "vda_errors"} <= set(body)
        assert {"tap1_rx", "tap1_tx", "tap1_rx_packets"} <= set(body)
        error(member_client.get(f"{API}/servers/{server}/diagnostics"), 403)
    finally:
        host_answers.conn.lookupByUUIDString(str(row.uuid)).destroy()


def test_2_48_diagnostics_in_the_standard_format(admin_client, server, host_answers):
    from datetime import timedelta

    from django.utils import timezone

    from compute.models import Instance
    from network.models import FixedIP
    from network.services.networks import create_network

    row = make_active(server)
    network = create_network("diag", "10.48.0.0/24", bridge="cptdiag48", bridge_interface="")  # a row only
    FixedIP.objects.filter(network=network, address="10.48.0.5").update(
        instance_uuid=row.uuid, mac_address="fa:16:3e:00:00:01", allocated=True)
    Instance.objects.filter(pk=row.pk).update(launched_at=timezone.now() - timedelta(seconds=100))
    xml = (f"<domain type='test'><name>{row.name}</name><uuid>{row.uuid}</uuid><memory>524288</memory>"
           "<vcpu>1</vcpu><os><type>hvm</type></os><devices><disk type='file' device='disk'>"
           "<source file='/tmp/x.img'/><target dev='vda' bus='virtio'/></disk>"
           "<interface type='network'><source network='default'/><target dev='tap1'/></interface>"
           "</devices></domain>")
    host_answers.conn.createXML(xml, 0)
    try:
        v248 = {"HTTP_OPENSTACK_API_VERSION": "compute 2.48"}
        body = admin_client.get(f"{API}/servers/{server}/diagnostics", **v248).json()
        # doc/api_samples/os-server-diagnostics/v2.48/server-diagnostics-get-resp.json
        assert set(body) == {"state", "driver", "hypervisor", "hypervisor_os", "uptime", "config_drive", "num_cpus",
                             "num_disks", "num_nics", "cpu_details", "disk_details", "nic_details", "memory_details"}
        assert (body["state"], body["driver"], body["hypervisor_os"]) == ("running", "libvirt", "linux")
        assert body["num_cpus"] == 1 and body["uptime"] >= 100 and body["config_drive"] is False
        assert [c["id"] for c in body["cpu_details"]] == [0] and body["cpu_details"][0]["utilisation"] is None
        (disk,) = body["disk_details"]
        assert set(disk) == {"read_bytes", "read_requests", "write_bytes", "write_requests", "errors_count"}
        (nic,) = body["nic_details"]
        assert nic["mac_address"] == "fa:16:3e:00:00:01" and isinstance(nic["rx_octets"], int)
        assert body["memory_details"]["maximum"] == 512  # MiB
        old = admin_client.get(f"{API}/servers/{server}/diagnostics",
                               HTTP_OPENSTACK_API_VERSION="compute 2.47").json()
        assert old["memory"] == 524288 and "tap1_rx" in old
    finally:
        host_answers.conn.lookupByUUIDString(str(row.uuid)).destroy()


def test_os_migrations(admin_client, member_client, server):
    assert admin_client.get(f"{API}/os-migrations").json() == {"migrations": []}
    error(member_client.get(f"{API}/os-migrations"), 403)
    Migration.objects.create(instance_uuid=server, source_compute="host-a", source_node="host-a",
                             dest_compute="host-b", dest_node="host-b", dest_host="10.0.0.2",
                             old_instance_type_id=1, new_instance_type_id=2, status="finished",
                             migration_type="resize")
    Migration.objects.create(instance_uuid=uuid.uuid4(), source_compute="host-c", status="error")
    rows = admin_client.get(f"{API}/os-migrations").json()["migrations"]
    assert len(rows) == 2
    assert set(rows[1]) == {"id", "status", "instance_uuid", "source_node", "source_compute", "dest_node",
                            "dest_compute", "dest_host", "old_instance_type_id", "new_instance_type_id",
                            "created_at", "updated_at"}
    assert [r["status"] for r in admin_client.get(f"{API}/os-migrations?host=host-b").json()["migrations"]] == [
        "finished"]
    assert [r["instance_uuid"] for r in admin_client.get(
        f"{API}/os-migrations?instance_uuid={server}").json()["migrations"]] == [server]
    assert admin_client.get(f"{API}/os-migrations?status=error").json()["migrations"][0]["source_compute"] == "host-c"
