"""The boot pipeline across real processes: a scheduler worker and host agents on libvirt's
test driver (`test:///<node.xml>`: simulated hypervisors, DESIGN section 9), the real
Redis broker and PostgreSQL. Networking is real: the network's host agent runs a bridge
and dnsmasq on this machine; the other agents send it DHCP refreshes.
"""
import subprocess
import uuid

import pytest
from django.db import connection

from cloudproj.testing.cloud import Cloud, node_xml
from cloudproj.testing.pipeline import boot as _boot
from cloudproj.testing.pipeline import make_world
from compute import states
from compute.models import Claim, ComputeNode, Instance, InstanceActionEvent
from compute.scheduler.claims import usage_from_claims
from compute.services import actions, operations
from identity.services import quotas
from network.models import FixedIP
from network.services import host as network_host

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BRIDGE = "cptsim0"
CIDR = "10.231.0.0/24"
# RamFilter: 3200 MB * 1.5 - 512 reserved = 4288 MB → 8 servers of 512 MB per host
HOST_MEMORY_MB = 3200


@pytest.fixture
def cloud(broker_url, settings, tmp_path):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.SERVICE_DOWN_TIME = 10
    cloud = Cloud(tmp_path, broker_url)
    yield cloud
    cloud.stop()
    subprocess.run(["pkill", "-f", f"dnsmasq.*{BRIDGE}"], check=False)
    subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)


@pytest.fixture
def world(cloud, tmp_path):
    return make_world(tmp_path, "sim", CIDR, BRIDGE, {"instances": 100, "cores": 200, "ram": 100 * 1024})


def _settled(uuids):
    rows = list(Instance.all_objects.filter(uuid__in=uuids))
    return len(rows) == len(uuids) and all(r.vm_state in (states.ACTIVE, states.ERROR) for r in rows)


def _per_host():
    counts = {}
    for host in Instance.objects.filter(vm_state=states.ACTIVE).values_list("host", flat=True):
        counts[host] = counts.get(host, 0) + 1
    return counts


def test_forty_servers_spread_over_five_hosts_and_the_41st_has_no_valid_host(cloud, world, tmp_path):
    hosts = [f"sim-{i}" for i in range(1, 6)]
    network = world["network"]
    network.host = hosts[0]  # sim-1 runs the network's bridge and dnsmasq; others ask it
    network.save(update_fields=["host"])
    cloud.start_scheduler(concurrency=1)
    for host in hosts:
        cloud.start_agent(host, LIBVIRT_URI=node_xml(tmp_path / f"{host}.xml", HOST_MEMORY_MB))
    cloud.wait_up(hosts)

    first = _boot(world, "spread", count=10)
    cloud.wait(lambda: _settled([i.uuid for i in first]), 120, "the first 10 servers")
    # the free-RAM weigher spreads: two on each host
    assert _per_host() == {host: 2 for host in hosts}

    rest = _boot(world, "fill", count=30)
    cloud.wait(lambda: _settled([i.uuid for i in rest]), 240, "30 more servers")
    assert _per_host() == {host: 8 for host in hosts}
    for node in ComputeNode.objects.filter(host__in=hosts):
        assert usage_from_claims(node)["memory_mb_used"] == node.memory_mb_used == 8 * 512
        assert node.memory_mb_used <= node.memory_mb * 1.5 - 512
        assert node.num_instances == 8

    # every server has its own address of the network, and sim-1's dnsmasq knows them all
    addresses = list(FixedIP.objects.filter(allocated=True).values_list("address", "mac_address", "host"))
    assert len(addresses) == 40 and len({a for a, _m, _h in addresses}) == 40
    assert {h for _a, _m, h in addresses} == set(hosts)
    hosts_file = cloud.state_path(hosts[0]) / "networks" / str(network.pk) / "hosts"
    cloud.wait(lambda: hosts_file.exists() and len(hosts_file.read_text().splitlines()) == 40, 30,
               "sim-1's dnsmasq hosts file to list 40 servers")
    for address, mac, _host in addresses:
        assert f"{mac},{address}" in hosts_file.read_text()

    (extra,) = _boot(world, "one-too-many")
    cloud.wait(lambda: _settled([extra.uuid]), 60, "the 41st server")
    extra.refresh_from_db()
    assert extra.status == "ERROR" and extra.host is None
    fault = actions.latest_fault(extra)
    assert fault.message.startswith("No valid host was found.")
    assert "5 hosts" in fault.message and "RamFilter removed 5" in fault.message
    assert not Claim.objects.filter(instance=extra).exists()
    assert not FixedIP.objects.filter(instance_uuid=extra.uuid).exists()

    # actions recorded the steps of one of them
    server = first[0]
    steps = [e.event for e in InstanceActionEvent.objects.filter(action__instance=server).order_by("start_time")]
    assert steps == ["schedule", "allocate_ip", "fetch_image", "spawn"]


def _next_instance_ids(count):
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('compute_instance', 'id'))")
        current = cursor.fetchone()[0]
    return [current + i for i in range(1, count + 1)]


def test_spawn_failure_on_one_host_ends_active_on_another_with_nothing_left_behind(cloud, world, tmp_path):
    """bad-host already has (stale) domains named like the next instances, with other uuids:
    libvirt refuses to define ours there. It has the most free RAM, so it is tried first."""
    foreign = [(f"instance-{i:08x}", str(uuid.uuid4())) for i in _next_instance_ids(3)]
    world["network"].host = "good-host"  # one dnsmasq for the network: the other agent asks it
    world["network"].save(update_fields=["host"])
    cloud.start_scheduler()
    cloud.start_agent("bad-host", LIBVIRT_URI=node_xml(tmp_path / "bad.xml", 8192, foreign_domains=foreign))
    cloud.start_agent("good-host", LIBVIRT_URI=node_xml(tmp_path / "good.xml", 4096))
    cloud.wait_up(["bad-host", "good-host"])

    (server,) = _boot(world, "resilient", request_id="req-resilient")
    cloud.wait(lambda: _settled([server.uuid]), 90, "the server to settle")
    server.refresh_from_db()
    assert (server.status, server.host) == ("ACTIVE", "good-host"), (actions.latest_fault(server), cloud.logs())
    assert [h for h, _n in server.retry["hosts"]] == ["bad-host", "good-host"]

    # the failure is on record: an errored spawn event on bad-host, and a fault naming it
    events = list(InstanceActionEvent.objects.filter(action__instance=server).order_by("start_time", "id"))
    failed = [e for e in events if e.result == "Error"]
    assert [(e.event, e.host) for e in failed] == [("spawn", "bad-host")]
    assert "exists with uuid" in failed[0].details
    assert actions.latest_fault(server).host == "bad-host"

    # nothing left on bad-host: no claim, no usage, no address, no instance files, and its
    # stale domains untouched (the rollback removes by uuid, never by name)
    bad = ComputeNode.objects.get(host="bad-host")
    assert (bad.memory_mb_used, bad.vcpus_used, bad.num_instances) == (0, 0, 0)
    assert Claim.objects.get(instance=server).host == "good-host"
    assert list(FixedIP.objects.filter(instance_uuid=server.uuid).values_list("host", flat=True)) == ["good-host"]
    assert not (cloud.state_path("bad-host") / "instances" / server.name).exists()
    assert (cloud.state_path("good-host") / "instances" / server.name / "disk").exists()
    domains = cloud.list_domains("bad-host")
    assert sorted(d["uuid"] for d in domains) == sorted(u for _n, u in foreign)
    assert [d["uuid"] for d in cloud.list_domains("good-host")] == [str(server.uuid)]

    # deleting releases everything exactly once
    operations.delete_server(world["ctx"], server)
    cloud.wait(lambda: Instance.all_objects.get(pk=server.pk).deleted_at is not None, 30, "the delete")
    assert not Claim.objects.exists()
    assert not FixedIP.objects.filter(allocated=True).exists()
    assert ComputeNode.objects.get(host="good-host").memory_mb_used == 0
    assert cloud.list_domains("good-host") == []
    assert not (cloud.state_path("good-host") / "instances" / server.name).exists()
    assert quotas.get_usages(world["ctx"].project)["instances"]["in_use"] == 0
    assert network_host.serving_host(world["network"], "good-host") == "good-host"


def test_failing_everywhere_ends_in_error_after_max_attempts_and_delete_releases_once(cloud, world, tmp_path, settings):
    ids = _next_instance_ids(2)
    hosts = ["stale-1", "stale-2", "stale-3", "stale-4"]
    world["network"].host = hosts[0]
    world["network"].save(update_fields=["host"])
    cloud.start_scheduler()
    for host in hosts:
        foreign = [(f"instance-{i:08x}", str(uuid.uuid4())) for i in ids]
        cloud.start_agent(host, LIBVIRT_URI=node_xml(tmp_path / f"{host}.xml", 4096, foreign_domains=foreign))
    cloud.wait_up(hosts)

    (server,) = _boot(world, "doomed")
    cloud.wait(lambda: _settled([server.uuid]), 90, "the server to settle")
    server.refresh_from_db()
    assert server.status == "ERROR"
    # SCHEDULER_MAX_ATTEMPTS (3) hosts were tried, each once; the fourth never
    tried = [h for h, _n in server.retry["hosts"]]
    assert len(tried) == settings.SCHEDULER_MAX_ATTEMPTS == len(set(tried))
    fault = actions.latest_fault(server)
    assert fault.message.startswith("Exceeded maximum number of retries.")
    assert "exists with uuid" in fault.message
    spawn_errors = InstanceActionEvent.objects.filter(action__instance=server, event="spawn", result="Error")
    assert sorted(e.host for e in spawn_errors) == sorted(tried)
    # the rollbacks left nothing: no claim, no usage, no address
    assert not Claim.objects.exists()
    assert all(n.memory_mb_used == 0 and n.num_instances == 0 for n in ComputeNode.objects.all())
    assert not FixedIP.objects.filter(allocated=True).exists()
    usage = quotas.get_usages(world["ctx"].project)["instances"]["in_use"]
    assert usage == 1  # an ERROR server still counts until it is deleted

    operations.delete_server(world["ctx"], server)  # no host: released right here
    operations.delete_server(world["ctx"], server)  # a second delete changes nothing
    server = Instance.all_objects.get(pk=server.pk)
    assert server.deleted_at is not None and server.vm_state == states.DELETED
    assert quotas.get_usages(world["ctx"].project)["instances"]["in_use"] == 0
    assert quotas.get_usages(world["ctx"].project)["ram"]["in_use"] == 0
