"""The Flat manager: networks without DHCP whose address reaches the guest on its kernel
command line; the bridge is the operator's (its addresses are left alone)."""
import subprocess

import pytest
from django.core.management import call_command

from cloudproj.testing.factories import make_instance as _make_instance
from cloudproj.testing.factories import make_project_user
from cloudproj.testing.host_network import host_networking_missing, unique
from compute.services import host_resources
from network.linux import bridge as linux_bridge
from network.linux import dnsmasq
from network.models import Network
from network.services import InvalidNetwork, fixed_ips
from network.services import host as host_service
from network.services.networks import create_network, delete_network

pytestmark = pytest.mark.django_db


def make_instance(**fields):
    project, user = make_project_user()
    return _make_instance(project, user, **fields)


def test_flat_manager_makes_injected_networks(settings):
    settings.NETWORK_MANAGER = "flat"
    assert create_network("flat1", "10.233.10.0/24", bridge=unique("f")).injected
    settings.NETWORK_MANAGER = "nova.network.manager.FlatDHCPManager"
    assert not create_network("dhcp1", "10.233.11.0/24", bridge=unique("f")).injected
    assert create_network("flat2", "10.233.12.0/24", bridge=unique("f"), injected=True).injected
    with pytest.raises(InvalidNetwork, match="VLAN network always has DHCP"):
        create_network("vlanflat", "10.233.13.0/24", bridge=unique("f"), vlan=100, injected=True)


def test_network_create_command_takes_injected(capsys):
    call_command("network", "create", "--label", "flatcli", "--fixed_range_v4", "10.233.20.0/24",
                 "--bridge", unique("f"), "--injected", "T")
    assert Network.objects.get(label="flatcli").injected
    with pytest.raises(Exception, match="--injected must be T or F"):
        call_command("network", "create", "--label", "x", "--fixed_range_v4", "10.233.21.0/24", "--injected", "maybe")


def test_guest_kernel_command_line_carries_its_flat_address():
    network = create_network("flatk", "10.233.30.0/24", bridge=unique("f"), injected=True, dns1="10.233.30.53")
    instance = make_instance(display_name="Web 1_a", hostname="web-1-a")
    row = fixed_ips.allocate_fixed_ip(network, instance.uuid, host="h1", hostname=instance.hostname)
    cmdline = host_resources.kernel_cmdline(instance, "root=/dev/vda console=ttyS0")
    assert cmdline == (f"root=/dev/vda console=ttyS0 ip={row.address}::10.233.30.1:255.255.255.0:"
                       f"{instance.hostname}:eth0:off:10.233.30.53")
    assert fixed_ips.dhcp_hosts(network) != []  # the row exists, but no dnsmasq reads it (below)

    dhcp = create_network("dhcpk", "10.233.31.0/24", bridge=unique("f"))
    other = make_instance()
    fixed_ips.allocate_fixed_ip(dhcp, other.uuid, host="h1", hostname="other")
    assert host_resources.kernel_cmdline(other, "root=/dev/vda") == "root=/dev/vda"


def test_os_networks_enable_dhcp_false_creates_a_flat_network(admin_client):
    body = {"network": {"label": "flatapi", "cidr": "10.233.40.0/24", "bridge": unique("f"), "enable_dhcp": False}}
    created = admin_client.post("/compute/v2.1/os-networks", body, format="json")
    assert created.status_code == 200, created.content
    assert created.json()["network"]["enable_dhcp"] is False
    assert created.json()["network"]["injected"] is True
    bad = admin_client.post("/compute/v2.1/os-networks",
                            {"network": {"label": "x", "cidr": "10.233.41.0/24", "enable_dhcp": "perhaps"}},
                            format="json")
    assert bad.status_code == 400 and "enable_dhcp" in bad.json()["badRequest"]["message"]


def test_host_keeps_the_operators_bridge_and_runs_no_dnsmasq(networks_path, host_links):
    missing = host_networking_missing()
    if missing:
        pytest.skip(missing)
    name = unique("f")
    host_links["links"].append(name)
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", "10.233.50.254/24", "dev", name], check=True)  # the operator's router
    network = create_network("flathost", "10.233.50.0/24", bridge=name, injected=True)
    report = host_service.setup_network(network, "h1")
    assert report["dnsmasq"] == host_service.INJECTED
    assert linux_bridge.addresses(name) == ["10.233.50.254/24"]  # the gateway is not added
    assert not dnsmasq.is_running(network.pk)

    # A missing bridge is created with the gateway: this host is the guests' gateway then.
    missing_bridge = unique("f")
    host_links["links"].append(missing_bridge)
    own = create_network("flatown", "10.233.51.0/24", bridge=missing_bridge, injected=True)
    host_service.setup_network(own, "h1")
    assert linux_bridge.addresses(missing_bridge) == ["10.233.51.1/24"]

    # Deleting a Flat network leaves the operator's bridge in place.
    delete_network(network)
    host_service.teardown_network(network.pk, name, operator_bridge=True)
    assert linux_bridge.exists(name)
