"""Leftovers of deleted instances removed from real host networking: a fixed IP still held by
a deleted instance (and its dnsmasq hosts entry), a stale dnsmasq lease that keeps the next
owner of the address from getting it (a real DHCP client in a network namespace), and a
security-group chain of an instance that is gone (real iptables)."""
import subprocess
import uuid

import pytest
from django.utils import timezone

from cloudproj.testing.factories import make_instance, make_project_user
from cloudproj.testing.host_network import guest, host_networking_missing, udhcpc, unique
from compute.models import Instance
from floating.models import FloatingIP
from network.linux import dnsmasq
from network.models import FixedIP
from network.services import fixed_ips, host, networks
from network.services.orphans import cleanup_orphans
from secgroups.linux import iptables
from secgroups.services import host as secgroup_host

missing = host_networking_missing() or (None if subprocess.run(["which", "iptables"], capture_output=True).returncode == 0
                                        else "iptables is not installed")
pytestmark = [pytest.mark.slow, pytest.mark.django_db, pytest.mark.skipif(bool(missing), reason=missing or "")]
HOST = "recon-net-1"


@pytest.fixture
def world(db, networks_path, host_links, settings, tmp_path):
    settings.STATE_PATH = tmp_path
    bridge = unique("rec")
    host_links["links"].append(bridge)
    network = networks.create_network("orphans", "10.250.0.0/24", bridge=bridge, bridge_interface="")
    host.setup_network(network, HOST)
    project, user = make_project_user("orph")
    yield network, project, user
    dnsmasq.stop(network.pk)
    secgroup_host.teardown(HOST)


def hosts_file(network) -> str:
    return dnsmasq.paths(network.pk)["hosts"].read_text()


def test_address_of_a_deleted_instance_goes_back_with_its_dhcp_entry(world):
    network, project, user = world
    dead = make_instance(project, user, host=HOST, deleted_at=timezone.now(), vm_state="deleted")
    live = make_instance(project, user, host=HOST, vm_state="active", task_state=None)
    leaked = fixed_ips.allocate_fixed_ip(network, dead.uuid, host=HOST, hostname="dead")
    kept = fixed_ips.allocate_fixed_ip(network, live.uuid, host=HOST, hostname="live")
    gone_uuid = uuid.uuid4()  # an instance row that no longer exists at all (archived)
    lost = fixed_ips.allocate_fixed_ip(network, gone_uuid, host=HOST, hostname="lost")
    floating = FloatingIP.objects.create(address="10.250.3.5", pool="nova", project=project, fixed_ip=leaked,
                                         instance_uuid=dead.uuid, host=HOST)
    host.refresh_dhcp(network, HOST)
    assert leaked.address in hosts_file(network) and lost.address in hosts_file(network)

    report = cleanup_orphans(HOST)

    assert sorted(report["fixed_ips"]) == sorted([leaked.address, lost.address])
    assert report["floating_ips"] == ["10.250.3.5"]
    content = hosts_file(network)
    assert leaked.address not in content and lost.address not in content and kept.address in content
    assert not FixedIP.objects.filter(instance_uuid__in=[dead.uuid, gone_uuid]).exists()
    assert FixedIP.objects.get(pk=leaked.pk).allocated is False
    floating.refresh_from_db()
    assert (floating.instance_uuid, floating.fixed_ip_id) == (None, None)
    assert cleanup_orphans(HOST)["fixed_ips"] == []  # converged


@pytest.mark.parametrize("release", ["dhcp_release", "restart"])
def test_stale_lease_no_longer_blocks_the_address_for_its_next_owner(world, host_links, tmp_path, settings, release):
    """Dropped with a DHCPRELEASE (dnsmasq-utils' dhcp_release) or, without it, by restarting
    dnsmasq over a rewritten lease file."""
    network, project, user = world
    if release == "restart":
        settings.DHCP_RELEASE_BINARY = "cloudproj-no-such-dhcp-release"
    else:
        assert dnsmasq.release_binary(), "dhcp_release is missing: make host-packages (dnsmasq-utils)"
    instance = make_instance(project, user, host=HOST, vm_state="active", task_state=None)
    row = fixed_ips.allocate_fixed_ip(network, instance.uuid, host=HOST, hostname="next")
    # the previous owner's lease (another MAC) is still in dnsmasq's lease file and memory
    with dnsmasq.network_lock(network.pk) as paths:
        dnsmasq.stop(network.pk)
        paths["leases"].write_text(f"{int(timezone.now().timestamp()) + 3600} fa:16:3e:00:00:99 {row.address} "
                                   f"old-owner *\n")
    host.refresh_dhcp(network, HOST)
    ns, ifname = guest(host_links, network.bridge, row.mac_address)
    lease, _proc = udhcpc(ns, ifname, tmp_path)
    assert lease is None or lease[0] != row.address  # dnsmasq refuses: "leased to" the old MAC
    pid_before = dnsmasq.pid(network.pk)

    report = cleanup_orphans(HOST)

    assert report["leases"] == {network.pk: [row.address]}
    assert "fa:16:3e:00:00:99" not in dnsmasq.paths(network.pk)["leases"].read_text()
    assert dnsmasq.is_running(network.pk)
    # a DHCPRELEASE leaves dnsmasq running; without dhcp_release it was restarted
    assert (dnsmasq.pid(network.pk) == pid_before) is (release == "dhcp_release")
    lease, proc = udhcpc(ns, ifname, tmp_path)
    assert lease is not None and lease[0] == row.address, proc.stderr


def test_chain_of_an_instance_no_longer_on_this_host_is_removed(world):
    chain = iptables.instance_chain(HOST, uuid.uuid4())
    subprocess.run(["iptables", "-w", "-N", chain], check=True)
    subprocess.run(["iptables", "-w", "-A", chain, "-j", "DROP"], check=True)
    assert chain in iptables.chains_of(HOST)
    moved = make_instance(*world[1:], host="elsewhere", vm_state="active", task_state=None)
    moved_chain = iptables.instance_chain(HOST, moved.uuid)
    subprocess.run(["iptables", "-w", "-N", moved_chain], check=True)

    report = cleanup_orphans(HOST)

    assert sorted(report["chains"]) == sorted([chain, moved_chain])
    assert iptables.chains_of(HOST) == {iptables.host_chain(HOST)}
    assert Instance.objects.filter(pk=moved.pk).exists()
