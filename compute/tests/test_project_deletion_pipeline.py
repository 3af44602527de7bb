"""A project deleted while it runs servers, holds volumes and floating IPs (issue 17 part 2):
nothing is stranded. Real processes: a scheduler and one host agent on libvirt's test driver
(simulated guests), the real Redis broker and PostgreSQL, a real bridge and dnsmasq, the file
volume driver and the floating NAT on a veth pair (iptables). Under the host lock.

Then: the host's periodic passes (orphan sweep, running-deleted) leave those guests, their
addresses and their DHCP leases alone; the admin lists them (API), stops one (API), deletes
one through the API, one through the dashboard, and `project scrub` deletes the rest; quota
usage goes down exactly once per resource."""
import io
import os
import signal
import subprocess
import time

import pytest
from django.core.management import call_command

from cloudproj import rpc
from cloudproj.testing.cloud import Cloud, node_xml
from cloudproj.testing.clients import logged_in
from cloudproj.testing.pipeline import boot, make_world
from compute import states
from compute.models import Instance
from floating.models import FloatingIP
from identity.models import Project, QuotaUsage
from images.models import Image
from network.models import FixedIP
from secgroups.models import SecurityGroup
from volumes.models import Volume, VolumeHost

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

API = "/compute/v2.1"
HOST = "pdel-1"
BRIDGE = "cptpdel0"
CIDR = "10.241.0.0/24"
PUBLIC, PUBLIC_PEER = "cptpdelpub0", "cptpdelpub1"  # the agent's FLOATING_INTERFACE (a veth pair)
FLOATING_RANGE = "198.51.100.248/30"  # TEST-NET-2
RESOURCES = ("instances", "cores", "ram", "floating_ips", "volumes", "gigabytes")


@pytest.fixture
def cloud(broker_url, settings, tmp_path):
    from floating.linux import nat
    from floating.services.host import prefix_for

    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.SERVICE_DOWN_TIME = 10
    subprocess.run(["ip", "link", "del", PUBLIC], capture_output=True)
    subprocess.run(["ip", "link", "add", PUBLIC, "type", "veth", "peer", "name", PUBLIC_PEER], check=True,
                   capture_output=True)
    subprocess.run(["ip", "link", "set", PUBLIC, "up"], check=True, capture_output=True)
    forwarding = nat.FORWARDING.read_text()
    cloud = Cloud(tmp_path, broker_url)
    yield cloud
    pid_files = list(cloud.state_path(HOST).glob("networks/*/dnsmasq.pid"))
    pids = [int(p.read_text().strip()) for p in pid_files if p.read_text().strip().isdigit()]
    cloud.stop()
    for pid in pids:  # the dnsmasq our agent started for this test's bridge
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    nat.remove_rules(prefix_for(HOST))
    subprocess.run(["ip", "link", "del", PUBLIC], capture_output=True)
    nat.FORWARDING.write_text(forwarding)
    subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)


def usage(project_id) -> dict:
    rows = QuotaUsage.objects.filter(project_id=project_id, resource__in=RESOURCES)
    found = dict(rows.values_list("resource", "in_use"))
    return {resource: found.get(resource, 0) for resource in RESOURCES}


def log_lines(cloud, needle: str) -> list[str]:
    return [line for line in cloud.logs_of(f"agent-{HOST}").splitlines() if needle in line]


def run_pass(cloud, send, needle: str) -> str:
    """Send one periodic host pass to the agent and wait for its report line in the agent's log."""
    before = len(log_lines(cloud, needle))
    send(HOST, expires=60)
    cloud.wait(lambda: len(log_lines(cloud, needle)) > before, 30, needle)
    return log_lines(cloud, needle)[-1]


def gone(uuid) -> bool:
    return Instance.all_objects.get(uuid=uuid).deleted_at is not None


def test_a_deleted_projects_servers_volumes_and_floating_ips_are_cleaned_up_through_each_path(
    cloud, tmp_path, admin_account, admin_client
):
    from floating.services import addresses, ranges
    from volumes.services import volumes as volume_service

    world = make_world(tmp_path, "pdel", CIDR, BRIDGE,
                       {"instances": 10, "cores": 10, "ram": 10 * 1024, "floating_ips": 5, "volumes": 5})
    project_id, ctx = world["project"].id, world["ctx"]
    network = world["network"]
    network.host = HOST
    network.save(update_fields=["host"])
    ranges.create_range(FLOATING_RANGE, pool="nova", interface=PUBLIC)
    cloud.start_scheduler(concurrency=1)
    cloud.start_agent(HOST, concurrency=2, LIBVIRT_URI=node_xml(tmp_path / "node.xml", 4096, vcpus=4),
                      FLOATING_INTERFACE=PUBLIC, VOLUME_DRIVER="file", VOLUMES_PATH=tmp_path / "volumes",
                      VOLUME_FILE_CAPACITY_GB=10, VOLUME_CLEAR_SIZE_MB=1)
    cloud.wait_up([HOST])
    cloud.wait(lambda: VolumeHost.objects.filter(host=HOST).exists(), 30, "the volume host's report")

    # the project runs three servers, holds two volumes and two floating IPs (one associated)
    servers = [str(i.uuid) for i in boot(world, "doomed", count=3)]
    cloud.wait(lambda: Instance.objects.filter(uuid__in=servers, vm_state=states.ACTIVE, task_state=None).count()
               == 3, 90, "three ACTIVE servers")
    volumes = [volume_service.create_volume(ctx, 1, name=f"doomed-vol-{i}") for i in range(2)]
    cloud.wait(lambda: Volume.objects.filter(pk__in=[v.pk for v in volumes], status="available").count() == 2,
               30, "two available volumes")
    volume_files = [tmp_path / "volumes" / f"{v.storage_name}.raw" for v in volumes]
    assert all(path.exists() for path in volume_files), list((tmp_path / "volumes").iterdir())
    floating = [addresses.allocate(ctx) for _ in range(2)]
    addresses.associate(ctx, Instance.objects.get(uuid=servers[0]), floating[0].address)
    assert usage(project_id) == {"instances": 3, "cores": 3, "ram": 3 * 512, "floating_ips": 2, "volumes": 2,
                                 "gigabytes": 2}
    fixed = {str(r.instance_uuid): (r.mac_address, r.address) for r in FixedIP.objects.filter(instance_uuid__in=servers)}
    assert len(fixed) == 3

    # Keystone deletes the project
    assert admin_client.delete(f"/v3/projects/{project_id}").status_code == 204
    assert not Project.objects.filter(pk=project_id).exists()

    # the host's periodic passes leave its guests, addresses and DHCP leases alone; a lease
    # nothing accounts for goes (the sweep did run)
    leases = cloud.state_path(HOST) / "networks" / str(network.pk) / "leases"
    cloud.wait(leases.with_name("dnsmasq.pid").exists, 30, "the network's dnsmasq")
    expiry = int(time.time()) + 3600
    stale = f"{expiry} 02:16:3e:00:00:99 10.241.0.250 stale *"
    leases.write_text("".join(f"{expiry} {mac} {ip} vm *\n" for mac, ip in fixed.values()) + stale + "\n")
    report = run_pass(cloud, rpc.cleanup_network_orphans, f"orphan cleanup of {HOST}:")
    assert "'fixed_ips': []" in report and "'floating_ips': []" in report, report
    text = leases.read_text()
    assert all(f"{mac} {ip}" in text for mac, ip in fixed.values()) and "10.241.0.250" not in text
    assert FixedIP.objects.filter(instance_uuid__in=servers, allocated=True).count() == 3
    assert FloatingIP.objects.get(pk=floating[0].pk).instance_uuid is not None
    run_pass(cloud, rpc.running_deleted_instances, f"running-deleted pass of {HOST}")
    domains = {d["uuid"]: d["power_state"] for d in rpc.list_domains(HOST)}
    assert all(domains.get(uuid) == "running" for uuid in servers), domains

    # the admin lists them, by project, through the API
    listed = admin_client.get(f"{API}/servers/detail?all_tenants=1&project_id={project_id}").json()["servers"]
    assert sorted(s["id"] for s in listed) == sorted(servers)

    # ... stops one
    stop = admin_client.post(f"{API}/servers/{servers[1]}/action", {"os-stop": None}, format="json")
    assert stop.status_code == 202, stop.content
    cloud.wait(lambda: Instance.objects.get(uuid=servers[1]).vm_state == states.STOPPED, 30, "the stop")

    # ... deletes one through the API: its host tears it down, usage goes down by one server
    assert admin_client.delete(f"{API}/servers/{servers[0]}").status_code == 204
    cloud.wait(lambda: gone(servers[0]), 30, "the API's delete")
    assert usage(project_id) == {"instances": 2, "cores": 2, "ram": 2 * 512, "floating_ips": 2, "volumes": 2,
                                 "gigabytes": 2}
    assert FloatingIP.objects.get(pk=floating[0].pk).instance_uuid is None  # never pointing at a dead server
    assert not FixedIP.objects.filter(instance_uuid=servers[0]).exists()

    # ... one through the dashboard's All instances
    response = logged_in("admin").post(f"/dashboard/instances/{servers[1]}/delete/", {"all": "1"})
    assert response.status_code == 302
    cloud.wait(lambda: gone(servers[1]), 30, "the dashboard's delete")
    assert usage(project_id) == {"instances": 1, "cores": 1, "ram": 512, "floating_ips": 2, "volumes": 2,
                                 "gigabytes": 2}

    # ... and `project scrub` deletes the rest
    out = io.StringIO()
    call_command("project", "scrub", project_id, "--wait", "60", stdout=out)
    assert "nothing left" in out.getvalue(), out.getvalue()
    assert gone(servers[2])
    assert usage(project_id) == {resource: 0 for resource in RESOURCES}
    assert not FloatingIP.objects.filter(project_id=project_id).exists()
    assert FloatingIP.objects.filter(address__in=[f.address for f in floating], project__isnull=True).count() == 2
    assert not Volume.objects.filter(project_id=project_id).exists()
    assert not any(path.exists() for path in volume_files)
    assert not Image.objects.filter(owner_id=project_id).exists()
    assert not SecurityGroup.objects.filter(project_id=project_id).exists()
    cloud.wait(lambda: not any(d["uuid"] in servers for d in rpc.list_domains(HOST)), 30, "no domain left")
    assert FixedIP.objects.filter(instance_uuid__in=servers).count() == 0

    # a second scrub finds nothing and changes nothing
    out = io.StringIO()
    call_command("project", "scrub", project_id, stdout=out)
    assert "deleted: " not in out.getvalue() and "nothing left" in out.getvalue()
    assert usage(project_id) == {resource: 0 for resource in RESOURCES}
