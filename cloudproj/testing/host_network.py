"""Host networking for the tests that touch this machine: unique `cpt` link names, what is
missing to run them, a guest stand-in (a network namespace on a bridge) with a real DHCP
client, and the machine's addresses and filter table."""
import ipaddress
import json
import os
import secrets
import shutil
import subprocess


def sh(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60)


def unique(prefix: str) -> str:
    return f"cpt{prefix}{secrets.token_hex(3)}"  # at most 15 characters (IFNAMSIZ)


def host_networking_missing() -> str | None:
    if os.geteuid() != 0:
        return "host networking tests need root (ip link, netns, dnsmasq)"
    for tool in ("ip", "dnsmasq", "busybox"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def iptables_missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    return next((f"{tool} is not installed" for tool in ("ip", "iptables", "iptables-restore")
                 if not shutil.which(tool)), None)


def guest(host_links, bridge_name, mac):
    """A netns with a veth whose host end is on the bridge and whose guest end has `mac`."""
    ns, outside, inside = unique("ns"), unique("vh"), unique("vg")
    host_links["netns"].append(ns)
    host_links["links"].append(outside)
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
    sh("ip", "link", "set", inside, "netns", ns)
    sh("ip", "netns", "exec", ns, "ip", "link", "set", inside, "address", mac)
    sh("ip", "netns", "exec", ns, "ip", "link", "set", inside, "up")
    sh("ip", "link", "set", outside, "master", bridge_name)
    sh("ip", "link", "set", outside, "up")
    return ns, inside


def udhcpc(ns, ifname, tmp_path):
    """busybox udhcpc in `ns` -> ([ip, subnet, router] of its lease or None, the process)."""
    out = tmp_path / "lease.txt"
    script = tmp_path / "udhcpc.sh"
    script.write_text(f'#!/bin/sh\nif [ "$1" = bound ]; then echo "$ip $subnet $router" > {out}; fi\nexit 0\n')
    script.chmod(0o755)
    proc = sh("ip", "netns", "exec", ns, "busybox", "udhcpc", "-i", ifname, "-n", "-q", "-t", "5", "-T", "1",
              "-s", str(script), check=False)
    return (out.read_text().split() if out.exists() else None), proc


def range_in_use(cidr: str) -> str | None:
    """An address or route of this machine inside `cidr` (a test must not shadow the machine's
    own network), or None."""
    net = ipaddress.IPv4Network(cidr)
    addrs = json.loads(subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True, text=True).stdout or "[]")
    for link in addrs:
        for info in link.get("addr_info", []):
            if ipaddress.IPv4Interface(f"{info['local']}/{info['prefixlen']}").network.overlaps(net):
                return f"{info['local']}/{info['prefixlen']} on {link['ifname']}"
    routes = json.loads(subprocess.run(["ip", "-j", "-4", "route"], capture_output=True, text=True).stdout or "[]")
    for route in routes:
        dst = route.get("dst", "")
        if dst and dst != "default" and ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32").overlaps(net):
            return f"route {dst}"
        if route.get("gateway") and ipaddress.IPv4Address(route["gateway"]) in net:
            return f"gateway {route['gateway']}"
    return None


def filter_table() -> str:
    """The host's filter table as `iptables -S` prints it."""
    return subprocess.run(["iptables", "-w", "-S"], capture_output=True, text=True, check=True, timeout=30).stdout
