"""The NAT host side on this machine's real kernel: the iptables chains and addresses, and real
traffic between network namespaces (a "guest" on a bridge, an "outside" on a veth that is the
public interface). No hypervisor: floating IPs are associated in the DB as the API leaves them.
"""
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cloudproj.testing.host_network import range_in_use
from floating.linux import nat
from floating.models import FloatingIP
from floating.services import floatingips
from floating.services import host as host_service
from floating.services import ranges
from identity.services import accounts as identity_services
from network.linux import bridge as linux_bridge
from network.validate import InvalidValue
from network.models import FixedIP
from network.services import fixed_ips, networks

HOST = "fipt-host"
NSHTTP = Path(__file__).with_name("nshttp.py")


def missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (iptables, ip netns)"
    for tool in ("ip", "iptables", "iptables-restore", "curl"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            return f"{tool} is not installed"
    return None


def sh(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60)


def unique(prefix: str) -> str:
    return f"cpt{prefix}{secrets.token_hex(3)}"


# --- rules as text: no root needed ------------------------------------------------------------


def test_ruleset_is_exactly_our_chains_and_rules():
    text = nat.ruleset([nat.Mapping("203.0.113.5", "10.0.0.3", "eth1")], "cloudproj-fip", {"PREROUTING"})
    assert text.splitlines() == [
        "*nat",
        ":cloudproj-fip-pre - [0:0]",
        ":cloudproj-fip-out - [0:0]",
        ":cloudproj-fip-post - [0:0]",
        "-A cloudproj-fip-pre -d 203.0.113.5/32 -j DNAT --to-destination 10.0.0.3",
        "-A cloudproj-fip-out -d 203.0.113.5/32 -j DNAT --to-destination 10.0.0.3",
        "-A cloudproj-fip-post -s 10.0.0.3/32 -o eth1 -j SNAT --to-source 203.0.113.5",
        "-I PREROUTING 1 -j cloudproj-fip-pre",
        "COMMIT",
    ]


@pytest.mark.parametrize("mapping", [
    nat.Mapping("203.0.113.5 -j ACCEPT", "10.0.0.3", "eth1"),
    nat.Mapping("203.0.113.5", "10.0.0.3\n-A INPUT", "eth1"),
    nat.Mapping("203.0.113.5", "10.0.0.3", "eth1 -j DROP"),
    nat.Mapping("203.0.113.5", "203.0.113.5", "eth1"),
])
def test_values_are_validated_before_anything_runs(mapping):
    with pytest.raises(InvalidValue):
        nat.ruleset([mapping], "cloudproj-fip")


@pytest.mark.parametrize("prefix", ["", "1abc", "a" * 24, "fip pre", "fip;x", "-fip"])
def test_chain_prefix_is_validated(prefix):
    with pytest.raises(InvalidValue):
        nat.chains(prefix)


# --- the real kernel ---------------------------------------------------------------------------

needs_root = pytest.mark.skipif(bool(missing()), reason=missing() or "")


@pytest.fixture
def kernel(settings, tmp_path):
    """A unique chain prefix and NETWORKS_PATH; links, namespaces, processes and chains made
    by the test are removed afterwards, and IPv4 forwarding is restored."""
    made = {"links": [], "netns": [], "procs": []}
    prefix = f"cptfipt{secrets.token_hex(3)}"
    settings.FLOATING_CHAIN_PREFIX = prefix
    settings.NETWORKS_PATH = tmp_path / "networks"
    forwarding = nat.FORWARDING.read_text()
    yield {"prefix": prefix, **made}
    for proc in made["procs"]:
        proc.kill()
        proc.wait(10)
    nat.remove_rules(prefix)
    for ns in made["netns"]:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    for link in made["links"]:
        subprocess.run(["ip", "link", "del", "dev", link], capture_output=True)
    nat.FORWARDING.write_text(forwarding)


@needs_root
def test_apply_replaces_only_our_chains_and_jumps_once(kernel):
    prefix = kernel["prefix"]
    other = f"cptother{secrets.token_hex(3)}"
    sh("iptables", "-w", "-t", "nat", "-N", other)
    try:
        sh("iptables", "-w", "-t", "nat", "-A", other, "-d", "203.0.113.77/32", "-j", "RETURN")
        first = [nat.Mapping("203.0.113.5", "10.0.0.3", "lo"), nat.Mapping("203.0.113.6", "10.0.0.4", "lo")]
        assert nat.apply_rules(first, prefix) == 6
        assert nat.apply_rules(first[1:], prefix) == 3
        rules = nat.chain_rules(prefix)
        assert rules[f"{prefix}-pre"] == [f"-A {prefix}-pre -d 203.0.113.6/32 -j DNAT --to-destination 10.0.0.4"]
        assert rules[f"{prefix}-post"] == [f"-A {prefix}-post -s 10.0.0.4/32 -o lo -j SNAT --to-source 203.0.113.6"]
        for hook, suffix in nat.HOOKS:
            listing = sh("iptables", "-w", "-t", "nat", "-S", hook).stdout.splitlines()
            assert listing.count(f"-A {hook} -j {prefix}-{suffix}") == 1
        # someone else's chain is untouched
        assert sh("iptables", "-w", "-t", "nat", "-S", other).stdout.splitlines()[1:] == [
            f"-A {other} -d 203.0.113.77/32 -j RETURN"]
        nat.remove_rules(prefix)
        assert nat.chain_rules(prefix) == {f"{prefix}-{s}": [] for _h, s in nat.HOOKS}
        assert nat.present_jumps(prefix) == set()
    finally:
        sh("iptables", "-w", "-t", "nat", "-F", other)
        sh("iptables", "-w", "-t", "nat", "-X", other)


@needs_root
def test_addresses_are_added_once_and_removed(kernel):
    link = unique("d")
    kernel["links"].append(link)
    sh("ip", "link", "add", link, "type", "veth", "peer", "name", link + "p")  # no dummy module here
    assert nat.add_address("203.0.113.9", link) is True
    assert nat.add_address("203.0.113.9", link) is False
    assert nat.host_addresses(link) == {"203.0.113.9"}
    assert nat.remove_address("203.0.113.9", link) is True
    assert nat.remove_address("203.0.113.9", link) is False
    with pytest.raises(InvalidValue):
        nat.add_address("203.0.113.9/24", link)


# --- real traffic through the NAT ---------------------------------------------------------------


def _ns_http(kernel, ns, address, port, log):
    proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, str(NSHTTP), address, str(port), str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    kernel["procs"].append(proc)
    return proc


def _curl(ns, url, timeout=3) -> str | None:
    proc = subprocess.run(["ip", "netns", "exec", ns, "curl", "-s", "-m", str(timeout), url], capture_output=True,
                          text=True, timeout=timeout + 10)
    return proc.stdout if proc.returncode == 0 else None


def _wait(predicate, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def topology(kernel, db, tmp_path):
    """guest ns (10.240.0.x on a bridge, default route via the bridge) and outside ns
    (198.51.100.2 on a veth whose host end, 198.51.100.1/24, is the public interface)."""
    used = range_in_use("198.51.100.0/24") or range_in_use("10.240.0.0/24")
    if used:
        pytest.skip(f"the test's ranges are this machine's own network: {used}")
    bridge, guest_ns, outside_ns = unique("b"), unique("g"), unique("o")
    gveth, pub = unique("gv"), unique("pv")
    kernel["links"] += [bridge, gveth, pub]
    kernel["netns"] += [guest_ns, outside_ns]
    network = networks.create_network("fipt", "10.240.0.0/24", bridge=bridge, bridge_interface="")
    linux_bridge.ensure_bridge(bridge, "10.240.0.1/24")
    instance_uuid = uuid.uuid4()
    fixed = fixed_ips.allocate_fixed_ip(network, instance_uuid, host=HOST, hostname="guest")
    for ns in (guest_ns, outside_ns):
        sh("ip", "netns", "add", ns)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", gveth, "type", "veth", "peer", "name", gveth + "i")
    sh("ip", "link", "set", gveth + "i", "netns", guest_ns)
    sh("ip", "link", "set", gveth, "master", bridge)
    sh("ip", "link", "set", gveth, "up")
    sh("ip", "netns", "exec", guest_ns, "ip", "addr", "add", f"{fixed.address}/24", "dev", gveth + "i")
    sh("ip", "netns", "exec", guest_ns, "ip", "link", "set", gveth + "i", "up")
    sh("ip", "netns", "exec", guest_ns, "ip", "route", "add", "default", "via", "10.240.0.1")
    sh("ip", "link", "add", pub, "type", "veth", "peer", "name", pub + "i")
    sh("ip", "link", "set", pub + "i", "netns", outside_ns)
    sh("ip", "addr", "add", "198.51.100.1/24", "dev", pub)
    sh("ip", "link", "set", pub, "up")
    sh("ip", "netns", "exec", outside_ns, "ip", "addr", "add", "198.51.100.2/24", "dev", pub + "i")
    sh("ip", "netns", "exec", outside_ns, "ip", "link", "set", pub + "i", "up")
    ranges.create_range("198.51.100.64/29", pool="public", interface=pub)
    project = identity_services.create_project("fipt")
    FloatingIP.objects.filter(address__in=["198.51.100.65", "198.51.100.66"]).update(project=project)
    _ns_http(kernel, guest_ns, "0.0.0.0", 80, tmp_path / "guest.log")
    _ns_http(kernel, outside_ns, "198.51.100.2", 8080, tmp_path / "outside.log")
    _wait(lambda: _curl(guest_ns, "http://127.0.0.1/") and _curl(outside_ns, "http://198.51.100.2:8080/"),
          what="the listeners")
    return {"guest": guest_ns, "outside": outside_ns, "fixed": fixed, "pub": pub, "uuid": instance_uuid,
            "outside_log": tmp_path / "outside.log"}


def _associate(address, fixed, instance_uuid, host=HOST):
    FloatingIP.objects.filter(address=address).update(fixed_ip=fixed, instance_uuid=instance_uuid, host=host)


def _tracked(address: str) -> list[str]:
    """conntrack's entries to or from `address` (either direction of the flow)."""
    lines = []
    for flag in ("--orig-dst", "--reply-dst"):
        proc = subprocess.run(["conntrack", "-L", flag, address], capture_output=True, text=True)
        lines += [line for line in proc.stdout.splitlines() if address in line]
    return lines


@needs_root
def test_inbound_and_outbound_traffic_through_a_floating_ip(topology, kernel):
    t, prefix = topology, kernel["prefix"]
    guest, outside, fixed = t["guest"], t["outside"], t["fixed"]
    # nothing to do on a machine with no floating IP: nothing is touched
    assert host_service.on_agent_start(HOST)["rules"] == 0 and nat.present_jumps(prefix) == set()
    assert _curl(outside, "http://198.51.100.65/", timeout=2) is None
    _associate("198.51.100.65", fixed, t["uuid"])
    report = host_service.sync_host(HOST)
    assert (report["rules"], report["added"]) == (3, ["198.51.100.65"])
    # applied: recorded for the Networking API's status (ACTIVE)
    assert floatingips.status(FloatingIP.objects.get(address="198.51.100.65")) == "ACTIVE"
    assert nat.FORWARDING.read_text().strip() == "1"
    assert nat.host_addresses(t["pub"]) == {"198.51.100.65"}
    # inbound: the outside reaches the guest; the guest sees the real client
    assert _wait(lambda: _curl(outside, "http://198.51.100.65/"), what="inbound") == "peer=198.51.100.2\n"
    # outbound: the guest's connections leave with the floating address
    assert _curl(guest, "http://198.51.100.2:8080/") == "peer=198.51.100.65\n"
    assert t["outside_log"].read_text().splitlines()[-1] == "198.51.100.65"
    # the host itself reaches the guest through the floating address too (OUTPUT)
    assert subprocess.run(["curl", "-s", "-m", "3", "http://198.51.100.65/"], capture_output=True,
                          text=True).stdout.startswith("peer=")

    # a restarted agent regenerates what was lost (chains flushed by hand, address removed)
    for _hook, suffix in nat.HOOKS:
        sh("iptables", "-w", "-t", "nat", "-F", f"{prefix}-{suffix}")
    nat.remove_address("198.51.100.65", t["pub"])
    assert _curl(outside, "http://198.51.100.65/", timeout=2) is None
    assert host_service.on_agent_start(HOST)["added"] == ["198.51.100.65"]
    assert _wait(lambda: _curl(outside, "http://198.51.100.65/"), what="inbound after restart")

    # disassociated: nothing gets in any more, the guest's traffic no longer leaves as .65, and
    # the connections tracked through .65 are forgotten (none keeps flowing)
    if shutil.which("conntrack"):
        assert _tracked("198.51.100.65"), "the connections through the floating IP are not tracked"
    FloatingIP.objects.filter(address="198.51.100.65").update(fixed_ip=None, instance_uuid=None, host=None)
    assert host_service.sync_host(HOST)["removed"] == ["198.51.100.65"]
    assert floatingips.status(FloatingIP.objects.get(address="198.51.100.65")) == "DOWN"
    if shutil.which("conntrack"):
        assert _tracked("198.51.100.65") == []
    assert nat.host_addresses(t["pub"]) == set()
    assert nat.chain_rules(prefix) == {f"{prefix}-{s}": [] for _h, s in nat.HOOKS}
    assert _curl(outside, "http://198.51.100.65/", timeout=2) is None
    assert _curl(guest, "http://198.51.100.2:8080/", timeout=2) is None  # no way back to 10.240.0.x


@needs_root
def test_stale_and_foreign_addresses(topology, kernel):
    t = topology
    _associate("198.51.100.65", t["fixed"], t["uuid"])
    host_service.sync_host(HOST)
    # another agent of this machine owns .66 (associated with its host): left alone
    _associate("198.51.100.66", t["fixed"], t["uuid"], host="fipt-other")
    nat.add_address("198.51.100.66", t["pub"])
    # an unassociated floating address someone left on the interface: removed
    nat.add_address("198.51.100.67", t["pub"])
    report = host_service.sync_host(HOST)
    assert report["removed"] == ["198.51.100.67"]
    assert nat.host_addresses(t["pub"]) == {"198.51.100.65", "198.51.100.66"}
    # .65 moved to another host while this one was down: this agent removes what it had added
    FloatingIP.objects.filter(address="198.51.100.65").update(host="fipt-other")
    assert host_service.on_agent_start(HOST)["removed"] == ["198.51.100.65"]
    assert nat.host_addresses(t["pub"]) == {"198.51.100.66"}
    # an association whose fixed IP went to another instance is never applied
    _associate("198.51.100.65", t["fixed"], t["uuid"])
    FixedIP.objects.filter(pk=t["fixed"].pk).update(instance_uuid=uuid.uuid4())
    assert host_service.mappings_for(HOST) == []
    assert host_service.sync_host(HOST)["rules"] == 0
    nat.remove_address("198.51.100.66", t["pub"])
