"""Per-instance iptables chains in the filter table, and the only code of the app that
touches the host's firewall.

Ownership. Every chain written here is named `cpsg-<h>` (the chain of host H, h = the
first 6 hex digits of sha1(H), so several agents can share a machine) or
`cpsg-<h>-<16 hex digits of the instance uuid>`. Outside those chains there is one jump to
the host chain at the top of FORWARD (bridged traffic to a guest: br_netfilter passes it to
iptables) and one at the top of OUTPUT (traffic the host itself sends to a guest over the
bridge). Changes go through `iptables-restore --noflush` naming only those chains:
declaring a chain flushes it, so the whole set is replaced in one transaction and no rule
of anybody else is touched. Manual changes to these chains are overwritten.

    host chain        -A cpsg-h -d <fixed ip>/32 -o <bridge> -j cpsg-h-<instance>   (per address)
    instance chain    -A c -m conntrack --ctstate INVALID -j DROP
                      -A c -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                      -A c -s <dhcp server>/32 -p udp -m udp --sport 67 --dport 68 -j ACCEPT
                      -A c -s <source> [-p tcp -m tcp --dport 80[:90]] -j ACCEPT   (per allow)
                      -A c -j DROP

Every value is validated before it reaches a rule; commands are argument lists.
"""
import fcntl
import hashlib
import ipaddress
import logging
import re
import subprocess
import uuid as uuid_lib
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from network.linux import validate
from network.linux.run import HostCommandError, run

log = logging.getLogger(__name__)

IPTABLES = "iptables"
IPTABLES_RESTORE = "iptables-restore"
PREFIX = "cpsg-"
TOP_CHAINS = ("FORWARD", "OUTPUT")
CHAIN_RE = re.compile(r"^cpsg-[0-9a-f]{6}(-[0-9a-f]{16})?\Z")
PORT_RANGES = {"tcp": (1, 65535), "udp": (1, 65535), "icmp": (-1, 255)}


# --- names ---------------------------------------------------------------------------------------


def host_chain(host: str) -> str:
    if not isinstance(host, str) or not host:
        raise validate.InvalidValue(f"invalid host name {host!r}")
    return PREFIX + hashlib.sha1(host.encode()).hexdigest()[:6]


def instance_chain(host: str, instance_uuid) -> str:
    try:
        key = uuid_lib.UUID(str(instance_uuid)).hex[:16]
    except ValueError:
        raise validate.InvalidValue(f"invalid instance uuid {instance_uuid!r}") from None
    return f"{host_chain(host)}-{key}"


def chain_name(name: str) -> str:
    if not isinstance(name, str) or not CHAIN_RE.match(name):
        raise validate.InvalidValue(f"invalid chain name {name!r}")
    return name


def cidr(value) -> str:
    try:
        return str(ipaddress.IPv4Network(str(value), strict=False))
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
        raise validate.InvalidValue(f"invalid IPv4 network {value!r}") from None


def _port(value, protocol: str) -> int:
    low, high = PORT_RANGES[protocol]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise validate.InvalidValue(f"invalid {protocol} port {value!r}")
    return value


# --- rendering (pure) ----------------------------------------------------------------------------


def match(allow) -> list[str]:
    """The protocol/port part of an allow rule as iptables arguments."""
    protocol = allow.protocol
    if protocol is None:
        return []
    if protocol not in PORT_RANGES:
        raise validate.InvalidValue(f"invalid protocol {protocol!r}")
    args = ["-p", protocol]
    if protocol == "icmp":
        icmp_type = -1 if allow.from_port is None else _port(allow.from_port, "icmp")
        code = -1 if allow.to_port is None else _port(allow.to_port, "icmp")
        if icmp_type != -1:
            args += ["-m", "icmp", "--icmp-type", f"{icmp_type}/{code}" if code != -1 else str(icmp_type)]
        return args
    if allow.from_port is None and allow.to_port is None:
        return args
    low, high = _port(allow.from_port, protocol), _port(allow.to_port, protocol)
    if low > high:
        raise validate.InvalidValue(f"invalid port range {low}:{high}")
    return args + ["-m", protocol, "--dport", str(low) if low == high else f"{low}:{high}"]


def instance_rules(chain: str, firewall) -> list[str]:
    """The rules of one instance's chain, in restore syntax (`-A chain ...`)."""
    chain = chain_name(chain)
    lines = [
        f"-A {chain} -m conntrack --ctstate INVALID -j DROP",
        f"-A {chain} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    ]
    for server in sorted({validate.ipv4(server) for a in firewall.addresses for server in a.dhcp_servers}):
        lines.append(f"-A {chain} -s {server}/32 -p udp -m udp --sport 67 --dport 68 -j ACCEPT")
    for allow in firewall.allows:
        tail = " ".join(match(allow) + ["-j", "ACCEPT"])
        for source in allow.sources:
            lines.append(f"-A {chain} -s {cidr(source)} {tail}")
    lines.append(f"-A {chain} -j DROP")
    return lines


def jump_rules(host: str, firewall) -> list[str]:
    """The host chain's jumps to one instance's chain, one per fixed address."""
    top, target = host_chain(host), instance_chain(host, firewall.uuid)
    return [f"-A {top} -d {validate.ipv4(a.ip)}/32 -o {validate.ifname(a.bridge)} -j {target}"
            for a in firewall.addresses]


def render_host(host: str, firewalls, remove=()) -> str:
    """iptables-restore input replacing all chains of `host`: its host chain, one chain per
    instance, and `remove` (stale chains of this host) flushed and deleted."""
    top = host_chain(host)
    wanted = [instance_chain(host, fw.uuid) for fw in firewalls]
    stale = sorted({chain_name(c) for c in remove} - set(wanted) - {top})
    body = [f"-X {c}" for c in stale]
    for fw in firewalls:
        body += jump_rules(host, fw)
    for fw in firewalls:
        body += instance_rules(instance_chain(host, fw.uuid), fw)
    declared = [f":{c} - [0:0]" for c in [top, *wanted, *stale]]
    return "\n".join(["*filter", *declared, *body, "COMMIT", ""])


def render_instance(host: str, firewall) -> str:
    """iptables-restore input replacing one instance's chain (its jumps are unchanged)."""
    chain = instance_chain(host, firewall.uuid)
    return "\n".join(["*filter", f":{chain} - [0:0]", *instance_rules(chain, firewall), "COMMIT", ""])


def render_removal(chains) -> str:
    names = sorted({chain_name(c) for c in chains})
    return "\n".join(["*filter", *[f":{c} - [0:0]" for c in names], *[f"-X {c}" for c in names], "COMMIT", ""])


# --- the host ------------------------------------------------------------------------------------


def restore(text: str) -> None:
    """Apply restore input atomically, leaving every chain it does not name alone."""
    argv = [IPTABLES_RESTORE, "--noflush"]
    proc = subprocess.run(argv, input=text, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise HostCommandError(argv, proc.returncode, proc.stderr or proc.stdout)


def chains_of(host: str) -> set[str]:
    """The chains of `host` that exist in the filter table now."""
    top = host_chain(host)
    out = run([IPTABLES, "-w", "-t", "filter", "-S"]).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "-N" and (parts[1] == top or parts[1].startswith(top + "-")):
            names.add(parts[1])
    return names


def ensure_jumps(host: str) -> None:
    """The host chain is jumped to from FORWARD and OUTPUT (inserted first if missing)."""
    top = host_chain(host)
    for builtin in TOP_CHAINS:
        if run([IPTABLES, "-w", "-C", builtin, "-j", top], check=False).returncode != 0:
            run([IPTABLES, "-w", "-I", builtin, "1", "-j", top])


def remove_jumps(host: str) -> None:
    top = host_chain(host)
    for builtin in TOP_CHAINS:
        for _ in range(100):  # every copy, should there be several
            if run([IPTABLES, "-w", "-D", builtin, "-j", top], check=False).returncode != 0:
                break


@contextmanager
def host_lock(host: str):
    """Serialises the changes to one host's chains (threads and processes of its agent)."""
    base = Path(settings.STATE_PATH) / "secgroups"
    base.mkdir(parents=True, exist_ok=True)
    with open(base / f"{host_chain(host)}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
