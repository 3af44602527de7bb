"""VLAN networks on this host, for real: per-project bridges and dnsmasq, the 802.1Q step skipped
with the kernel's own reason (no 8021q here), and no forwarding between two projects' bridges,
checked with traffic between network namespaces (cptvl* links, 10.241.x.x)."""
import secrets
import subprocess
from pathlib import Path

import pytest

from cloudproj.testing.factories import make_project_user
from cloudproj.testing.host_network import host_networking_missing
from network.linux import dnsmasq, isolation
from network.linux import vlan as linux_vlan
from network.services import host, vlan

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(host_networking_missing() is not None, reason=str(host_networking_missing()))]

FORWARDING = Path("/proc/sys/net/ipv4/ip_forward")


def sh(*argv, check=True):
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} failed: {proc.stderr}")
    return proc


@pytest.fixture
def vlan_host(settings, networks_path, host_links):
    settings.NETWORK_MANAGER = "vlan"
    settings.VLAN_INTERFACE = "eth0" if Path("/sys/class/net/eth0").exists() else "lo"
    settings.VLAN_BRIDGE_PREFIX = "cptvl"
    settings.VLAN_DEVICE_PREFIX = "cptvlv"
    settings.VLAN_ISOLATION_CHAIN = f"cptvl-iso-{secrets.token_hex(3)}"
    linux_vlan.reset_cache()
    vlans = (3900, 3901)
    host_links["links"] += [f"cptvl{v}" for v in vlans] + [f"cptvlv{v}" for v in vlans]
    yield settings
    isolation.remove(settings.VLAN_ISOLATION_CHAIN)
    linux_vlan.reset_cache()


def _attach(host_links, ns, bridge, address, gateway):
    """A namespace `ns` with one veth end (address/24, default route via gateway) on `bridge`."""
    outside, inside = f"{ns}h", f"{ns}g"
    host_links["netns"].append(ns)
    host_links["links"].append(outside)
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
    sh("ip", "link", "set", inside, "netns", ns)
    sh("ip", "link", "set", outside, "master", bridge)
    sh("ip", "link", "set", outside, "up")
    sh("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", inside)
    sh("ip", "-n", ns, "link", "set", inside, "up")
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", ns, "route", "add", "default", "via", gateway)


def _ping(ns, address) -> bool:
    return sh("ip", "netns", "exec", ns, "busybox", "ping", "-c", "2", "-W", "1", address,
              check=False).returncode == 0


def test_two_projects_vlan_networks_are_set_up_and_isolated(vlan_host, host_links):
    settings = vlan_host
    nets = vlan.create_vlan_networks("hostvl", "10.241.200.0/23", vlan_start=3900, num_networks=2,
                                     network_size=256)
    a, _ = make_project_user("vlhost-a")
    b, _ = make_project_user("vlhost-b")
    net_a, net_b = vlan.network_for_project(a.id), vlan.network_for_project(b.id)
    assert {net_a.pk, net_b.pk} == {n.pk for n in nets}

    # what the kernel says about 802.1Q here, tried independently of the code under test
    probe = sh("ip", "link", "add", "link", settings.VLAN_INTERFACE, "name", "cptvlvt", "type", "vlan",
               "id", "4093", check=False)
    if probe.returncode == 0:
        sh("ip", "link", "del", "cptvlvt", check=False)

    report = host.supervise_host_networks("h1")
    for network in (net_a, net_b):
        entry = report[network.pk]
        assert "error" not in entry, entry
        assert entry["dnsmasq"] in ("started", "reloaded", "unchanged"), entry
        assert dnsmasq.is_running(network.pk)
        assert Path("/sys/class/net", network.bridge, "bridge").exists()
        assert f"inet {network.gateway}/24" in sh("ip", "-4", "addr", "show", "dev", network.bridge).stdout
        assert entry["isolation"] == settings.VLAN_ISOLATION_CHAIN
        if probe.returncode == 0:
            assert entry["vlan"] == f"cptvlv{network.vlan} on {settings.VLAN_INTERFACE}"
        else:  # these machines: skipped, with the kernel's own words; nothing enslaved to the bridge
            assert entry["vlan"].startswith(f"skipped: 802.1Q not available: {probe.stderr.strip()}"), entry
            assert not any(Path("/sys/class/net", network.bridge, "brif").iterdir())
    assert isolation.current_bridges(settings.VLAN_ISOLATION_CHAIN) == [net_a.bridge, net_b.bridge]
    # probed once per process: a second pass does not try again
    calls = []
    original = linux_vlan._probe
    linux_vlan._probe = lambda *args: calls.append(args) or original(*args)
    try:
        host.supervise_host_networks("h1")
    finally:
        linux_vlan._probe = original
    assert calls == []

    _attach(host_links, "cptvlna", net_a.bridge, "10.241.200.50", net_a.gateway)
    _attach(host_links, "cptvlnc", net_a.bridge, "10.241.200.51", net_a.gateway)
    _attach(host_links, "cptvlnb", net_b.bridge, "10.241.201.50", net_b.gateway)
    forwarding = FORWARDING.read_text()
    FORWARDING.write_text("1\n")
    try:
        assert _ping("cptvlna", net_a.gateway)  # its own gateway
        assert _ping("cptvlna", "10.241.200.51")  # a neighbour on the same project's bridge
        assert not _ping("cptvlna", "10.241.201.50"), "project A reached project B's network"
        assert not _ping("cptvlnb", "10.241.200.50"), "project B reached project A's network"
        # the refusal is the isolation chain's: without it the host routes between the bridges
        isolation.remove(settings.VLAN_ISOLATION_CHAIN)
        assert _ping("cptvlna", "10.241.201.50")
        host.supervise_host_networks("h1")  # supervision puts it back
        assert not _ping("cptvlna", "10.241.201.50")
        assert sh("iptables", "-w", "-C", "FORWARD", "-j", settings.VLAN_ISOLATION_CHAIN,
                  check=False).returncode == 0
    finally:
        FORWARDING.write_text(forwarding)


def test_teardown_removes_only_an_8021q_device_of_the_vlan(vlan_host, host_links):
    """A look-alike link with the device's name (not an 802.1Q device) is never deleted; on
    kernels with 802.1Q the real device goes with its last network."""
    name = "cptvlv3902"
    host_links["links"] += [name, name + "p"]
    sh("ip", "link", "add", name, "type", "veth", "peer", "name", name + "p")
    assert not linux_vlan.is_vlan_device(name)
    host.teardown_network(999999, vlan=3902)
    assert Path(f"/sys/class/net/{name}").exists()
    supported, reason = linux_vlan.support(vlan_host.VLAN_INTERFACE, vlan_host.VLAN_DEVICE_PREFIX)
    if not supported:
        pytest.skip(f"deleting a real 802.1Q device is not testable here: {reason}")
    sh("ip", "link", "del", name)
    sh("ip", "link", "add", "link", vlan_host.VLAN_INTERFACE, "name", name, "type", "vlan", "id", "3902")
    assert linux_vlan.is_vlan_device(name)
    host.teardown_network(999999, vlan=3902)
    assert not Path(f"/sys/class/net/{name}").exists()
