"""A simulated fleet (`./manage.py agent --simulate N`): one process serves N hosts on libvirt's
test driver. It touches nothing on this machine (no bridge, no dnsmasq, no iptables): the
network is served by a host with no agent, so addresses live only in the database."""
import pytest

from cloudproj import rpc
from compute import states
from compute.models import ComputeNode, Flavor, Instance, InstanceActionEvent, Service
from images.services.registry import register_image
from network.services.networks import create_network

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_three_simulated_hosts_register_answer_on_their_own_queues_and_a_boot_lands_active(
        cloud, member_client, member_account, tmp_path):
    _user, project, _token = member_account
    Flavor.objects.create(flavorid="fl.nano", name="fl.nano", memory_mb=64, vcpus=1, root_gb=0)
    disk = tmp_path / "nano.raw"
    disk.write_bytes(b"\0" * 1024 * 1024)
    image = register_image(disk, "fleet-image", disk_format="raw", visibility="public", owner=project)
    create_network("fleetnet", "10.253.4.0/24", bridge="cptfl0", host="fleet-dhcp")

    cloud.start_scheduler(concurrency=1)
    hosts = cloud.start_fleet(3, prefix="fl-", concurrency=2, memory_mb=3072, vcpus=3)
    assert hosts == ["fl-00", "fl-01", "fl-02"]
    cloud.wait_up(hosts, timeout=90)

    # three hosts, each with its three services and its own compute node and capacity
    services = Service.objects.filter(host__in=hosts)
    assert sorted(services.values_list("host", "binary")) == sorted(
        (host, binary) for host in hosts for binary in ("nova-compute", "nova-network", "nova-volume"))
    assert all(service.is_up for service in services)
    nodes = {n.host: n for n in ComputeNode.objects.filter(host__in=hosts)}
    assert sorted(nodes) == hosts
    for host, node in nodes.items():
        assert (node.hypervisor_hostname, node.vcpus, node.memory_mb, node.hypervisor_type) == (
            host, 3, 3072, "TEST")

    # each host's queue is answered by that host (one process acting for each in turn)
    for host in hosts:
        assert rpc.ping(host).get(timeout=30)["host"] == host

    response = member_client.post("/compute/v2.1/servers", {"server": {
        "name": "fleet-vm", "flavorRef": "fl.nano", "imageRef": str(image.id)}}, format="json")
    assert response.status_code == 202, response.content
    server_id = response.json()["server"]["id"]
    cloud.wait(lambda: Instance.objects.filter(uuid=server_id, vm_state__in=("active", "error")).exists(),
               120, "the server to settle")
    server = Instance.objects.get(uuid=server_id)
    assert server.vm_state == states.ACTIVE and server.host in hosts
    body = member_client.get(f"/compute/v2.1/servers/{server_id}").json()["server"]
    assert body["status"] == "ACTIVE" and body["OS-EXT-STS:power_state"] == 1
    (address,) = [a["addr"] for a in body["addresses"]["fleetnet"]]
    assert address.startswith("10.253.4.")
    # the domain exists on the chosen host's libvirt connection, and on no other
    domains = {host: {d["uuid"] for d in rpc.list_domains(host, timeout=30)} for host in hosts}
    assert [host for host, uuids in domains.items() if server_id in uuids] == [server.host]
    events = InstanceActionEvent.objects.filter(action__instance=server).order_by("start_time")
    assert [e.event for e in events] == ["schedule", "allocate_ip", "fetch_image", "spawn"]
    assert [e.host for e in events][1:] == [server.host] * 3
