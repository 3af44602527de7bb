"""The host side: the DNAT of 169.254.169.254:80 in our own chains, applied atomically and
idempotently, other bridges' rules kept, gone bridges pruned; and its effect on real traffic
from a network namespace on a bridge."""
import secrets
import socket
import sys
import threading

import pytest

from cloudproj.testing.host_network import iptables_missing, sh
from metadata.linux import iptables
from metadata.linux.iptables import MetadataRule
from network.validate import InvalidValue

MISSING = iptables_missing()

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(MISSING), reason=MISSING or "")]

GATEWAY = "10.237.200.1"
CLIENT = "10.237.200.10"


def test_rules_are_validated():
    for bad in (("br0; reboot", "10.0.0.1", 8775), ("br0", "10.0.0.1/24", 8775), ("br0", "x", 8775),
                ("br0", "10.0.0.1", 0), ("br0", "10.0.0.1", "8775"), ("a" * 16, "10.0.0.1", 8775)):
        with pytest.raises(InvalidValue):
            MetadataRule(*bad)


def test_ensure_is_idempotent_and_keeps_other_bridges(bridges):
    one, two = bridges(), bridges()
    assert iptables.ensure([MetadataRule(one, "10.237.201.1", 8775)]) is True
    assert iptables.rules_of(one) == {
        "nat": [f"-A {iptables.chain()} -d 169.254.169.254/32 -i {one} -p tcp -m tcp --dport 80 "
                f"-j DNAT --to-destination 10.237.201.1:8775"],
        "filter": [f"-A {iptables.chain()} -d 10.237.201.1/32 -i {one} -p tcp -m tcp --dport 8775 -j ACCEPT"],
    }
    for table, chain in (("nat", "PREROUTING"), ("filter", "INPUT")):
        assert sh("iptables", "-t", table, "-C", chain, "-j", iptables.chain(), check=False).returncode == 0
    assert iptables.ensure([MetadataRule(one, "10.237.201.1", 8775)]) is False  # nothing to do

    # another agent's bridge: its rule is added, ours stays; a new port replaces the old rule
    assert iptables.ensure([MetadataRule(two, "10.237.202.1", 9999)]) is True
    assert len(iptables.rules_of(one)["nat"]) == 1 and len(iptables.rules_of(two)["nat"]) == 1
    iptables.ensure([MetadataRule(two, "10.237.202.1", 8776)])
    assert iptables.rules_of(two)["nat"][0].endswith("--to-destination 10.237.202.1:8776")
    assert iptables.rules_of(two)["filter"][0].endswith("--dport 8776 -j ACCEPT")
    # the jumps exist once, however often it ran
    for table, chain in (("nat", "PREROUTING"), ("filter", "INPUT")):
        listing = sh("iptables", "-t", table, "-S", chain).stdout
        assert listing.count(f"-j {iptables.chain()}") == 1

    # a bridge that went away loses its rules at the next pass (of any agent)
    sh("ip", "link", "del", two)
    iptables.ensure([MetadataRule(one, "10.237.201.1", 8775)])
    assert iptables.rules_of(two) == {"nat": [], "filter": []}
    assert len(iptables.rules_of(one)["nat"]) == 1
    iptables.remove([one])
    assert iptables.rules_of(one) == {"nat": [], "filter": []}


def test_a_duplicated_jump_is_repaired_and_the_chain_can_still_be_removed(bridges):
    """Two agents of one machine racing (test clouds, a killed agent) once left PREROUTING
    jumping to the chain twice; removing the last rule then failed with 'CHAIN_DEL failed
    (Device or resource busy)' at every pass."""
    one = bridges()
    iptables.ensure([MetadataRule(one, "10.237.203.1", 8775)])
    iptables.remove([one])  # a clean start: the chain is gone when no bridge is left
    iptables.ensure([MetadataRule(one, "10.237.203.1", 8775)])
    for table, chain in (("nat", "PREROUTING"), ("filter", "INPUT")):
        sh("iptables", "-t", table, "-A", chain, "-j", iptables.chain())  # the raced second jump
    assert iptables.ensure([MetadataRule(one, "10.237.203.1", 8775)]) is True
    for table, chain in (("nat", "PREROUTING"), ("filter", "INPUT")):
        assert sh("iptables", "-t", table, "-S", chain).stdout.count(f"-j {iptables.chain()}") == 1

    sh("iptables", "-t", "nat", "-A", "PREROUTING", "-j", iptables.chain())
    iptables.remove([one])
    for table, _chain in (("nat", "PREROUTING"), ("filter", "INPUT")):
        assert iptables.chain() not in sh("iptables", "-t", table, "-S").stdout


def _serve_once(address: str, port: int, seen: dict) -> threading.Thread:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, port))
    server.listen(4)
    server.settimeout(20)

    def loop():
        with server:
            try:
                while True:
                    conn, peer = server.accept()
                    with conn:
                        conn.recv(4096)
                        seen.setdefault("peers", []).append(peer[0])
                        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                        if seen.get("stop"):
                            return
            except OSError:
                return

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def _fetch_from(ns: str) -> str | None:
    code = ("import urllib.request,sys\n"
            "try:\n print(urllib.request.urlopen('http://169.254.169.254/latest/meta-data/', timeout=3).read().decode())\n"
            "except Exception as e:\n print('ERR', e); sys.exit(1)\n")
    proc = sh("ip", "netns", "exec", ns, sys.executable, "-c", code, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def test_a_guest_on_the_bridge_reaches_the_service_through_169_254_169_254(bridges):
    bridge = bridges(f"{GATEWAY}/24")
    ns, outside, inside = f"cptmdns{secrets.token_hex(3)}", f"cptmdv{secrets.token_hex(3)}", "eth0"
    bridges.namespaces.append(ns)
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", outside, "type", "veth", "peer", "name", f"{outside}p")
    sh("ip", "link", "set", f"{outside}p", "netns", ns)
    sh("ip", "netns", "exec", ns, "ip", "link", "set", f"{outside}p", "name", inside)
    sh("ip", "link", "set", outside, "master", bridge)
    sh("ip", "link", "set", outside, "up")
    for argv in (("ip", "link", "set", "lo", "up"), ("ip", "link", "set", inside, "up"),
                 ("ip", "addr", "add", f"{CLIENT}/24", "dev", inside),
                 ("ip", "route", "add", "default", "via", GATEWAY)):
        sh("ip", "netns", "exec", ns, *argv)
    with socket.socket() as probe:
        probe.bind((GATEWAY, 0))
        port = probe.getsockname()[1]
    seen = {}
    _serve_once(GATEWAY, port, seen)

    assert _fetch_from(ns) is None  # no rule yet: 169.254.169.254 leads nowhere
    iptables.ensure([MetadataRule(bridge, GATEWAY, port)])
    assert _fetch_from(ns) == "hello"
    assert seen["peers"] == [CLIENT]  # the service sees the guest's own address
    iptables.remove([bridge])
    seen["stop"] = True
    assert _fetch_from(ns) is None
