"""Networks and fixed IPs through the services (real PostgreSQL, no host changes)."""
import uuid

import pytest

from network.models import FixedIP, Network
from network.services import InvalidNetwork, NetworkInUse, NoMoreFixedIps
from network.services import fixed_ips, networks

pytestmark = pytest.mark.django_db


def make(label="net1", cidr="10.200.1.0/24", bridge="cptsvc1", **kwargs):
    return networks.create_network(label, cidr, bridge=bridge, bridge_interface="", **kwargs)


def test_create_network_fills_its_fields_and_fixed_ips():
    network = make(dns1="8.8.4.4")
    assert (network.cidr, network.netmask, network.gateway, network.broadcast) == (
        "10.200.1.0/24", "255.255.255.0", "10.200.1.1", "10.200.1.255")
    assert (network.dhcp_start, network.dhcp_end, network.dns1, network.dns2) == (
        "10.200.1.2", "10.200.1.254", "8.8.4.4", None)
    rows = FixedIP.objects.filter(network=network)
    assert rows.count() == 256
    assert set(rows.filter(reserved=True).values_list("address", flat=True)) == {
        "10.200.1.0", "10.200.1.1", "10.200.1.255"}
    assert not rows.filter(allocated=True).exists()


def test_network_size_takes_the_start_of_the_range():
    network = make(cidr="10.200.8.0/22", network_size=64)
    assert network.cidr == "10.200.8.0/26"
    assert FixedIP.objects.filter(network=network).count() == 64


@pytest.mark.parametrize("cidr, message", [
    ("10.200.1.0/33", "invalid fixed range"),
    ("10.200.1.5/24", "has host bits set"),
    ("nonsense", "invalid fixed range"),
    ("10.200.1.0/31", "between /16 and /30"),
    ("10.0.0.0/15", "between /16 and /30"),
])
def test_bad_ranges_are_refused(cidr, message):
    with pytest.raises(InvalidNetwork, match=message):
        make(cidr=cidr)


def test_overlaps_labels_and_bridges_are_refused():
    make()
    with pytest.raises(InvalidNetwork, match="overlaps network net1"):
        make(label="other", cidr="10.200.0.0/16", bridge="cptsvc2")
    with pytest.raises(InvalidNetwork, match="already exists"):
        make(cidr="10.200.2.0/24", bridge="cptsvc2")
    with pytest.raises(InvalidNetwork, match="already used by network net1"):
        make(label="other", cidr="10.200.2.0/24")
    for bad in ("x" * 16, "br 0", "br;rm", "br/0"):
        with pytest.raises(InvalidNetwork, match="interface name"):
            make(label="other", cidr="10.200.2.0/24", bridge=bad)
    with pytest.raises(InvalidNetwork, match="dns1"):
        make(label="other", cidr="10.200.2.0/24", bridge="cptsvc2", dns1="8.8.8")
    with pytest.raises(InvalidNetwork, match="num_networks"):
        make(label="other", cidr="10.200.2.0/24", bridge="cptsvc2", num_networks=2)


def test_ensure_default_network_is_idempotent(test_bridge_settings):
    first = networks.ensure_default_network()
    again = networks.ensure_default_network()
    assert first.pk == again.pk
    assert (first.label, first.cidr, first.bridge) == ("private", "10.200.250.0/24",
                                                      test_bridge_settings.FLAT_NETWORK_BRIDGE)
    assert Network.objects.count() == 1


def test_allocate_is_idempotent_per_instance_and_release_returns_the_address():
    network = make(cidr="10.200.3.0/29")  # 8 addresses: .2 .. .6 usable
    vm1, vm2 = uuid.uuid4(), uuid.uuid4()
    a = fixed_ips.allocate_fixed_ip(network, vm1, host="h1", hostname="My VM_1!")
    assert a.address == "10.200.3.2"
    assert a.hostname == "my-vm-1"
    assert a.mac_address.startswith("fa:16:3e:") and len(a.mac_address) == 17
    again = fixed_ips.allocate_fixed_ip(network, str(vm1), host="h1", hostname="My VM_1!")
    assert (again.pk, again.mac_address) == (a.pk, a.mac_address)
    b = fixed_ips.allocate_fixed_ip(network, vm2, host="h2", hostname="vm2")
    assert b.address == "10.200.3.3" and b.mac_address != a.mac_address
    assert [ip.address for ip in fixed_ips.fixed_ips_of_instance(vm1)] == ["10.200.3.2"]
    assert [(e.mac, e.ip, e.hostname) for e in fixed_ips.dhcp_hosts(network)] == [
        (a.mac_address, "10.200.3.2", "my-vm-1"), (b.mac_address, "10.200.3.3", "vm2")]

    released = fixed_ips.release_fixed_ip(vm1)
    assert [ip.address for ip in released] == ["10.200.3.2"]
    assert fixed_ips.release_fixed_ip(vm1) == []  # exactly once
    row = FixedIP.objects.get(network=network, address="10.200.3.2")
    assert (row.allocated, row.instance_uuid, row.mac_address) == (False, None, None)
    assert [e.ip for e in fixed_ips.dhcp_hosts(network)] == ["10.200.3.3"]
    # the just-released address is handed out last (dnsmasq may still hold its lease)
    order = [fixed_ips.allocate_fixed_ip(network, uuid.uuid4()).address for _ in range(4)]
    assert order == ["10.200.3.4", "10.200.3.5", "10.200.3.6", "10.200.3.2"]
    with pytest.raises(NoMoreFixedIps, match="No fixed IP addresses available for network net1"):
        fixed_ips.allocate_fixed_ip(network, uuid.uuid4())


def test_multi_host_dhcp_entries_are_per_host():
    network = make(multi_host=True)
    fixed_ips.allocate_fixed_ip(network, uuid.uuid4(), host="h1", hostname="a")
    fixed_ips.allocate_fixed_ip(network, uuid.uuid4(), host="h2", hostname="b")
    assert [e.hostname for e in fixed_ips.dhcp_hosts(network, "h1")] == ["a"]
    assert len(fixed_ips.dhcp_hosts(network)) == 2


def test_delete_network_is_refused_while_addresses_are_allocated():
    network = make()
    vm = uuid.uuid4()
    fixed_ips.allocate_fixed_ip(network, vm)
    with pytest.raises(NetworkInUse, match="still in use"):
        networks.delete_network(network)
    fixed_ips.release_fixed_ip(vm)
    networks.delete_network(network)
    assert Network.objects.count() == 0
    assert not FixedIP.objects.filter(network=network).exists()
    make()  # label, range and bridge are free again


def test_get_network_by_uuid_label_or_cidr_and_visibility(make_account):
    _, project, _ = make_account("proj-a", "member")
    _, other, _ = make_account("proj-b", "member")
    shared = make()
    own = make(label="own", cidr="10.200.2.0/24", bridge="cptsvc2", project=project)
    assert networks.get_network(str(shared.uuid)).pk == shared.pk
    assert networks.get_network("own", project.id, False).pk == own.pk
    assert networks.get_network("10.200.1.0/24", other.id, False).pk == shared.pk
    with pytest.raises(networks.NetworkNotFound):
        networks.get_network("own", other.id, False)
    assert set(networks.visible_networks(other.id, False)) == {shared}
