"""Floating IP NAT on a host: the only code of the floating app that runs iptables and ip.

Per floating IP (a Mapping floating -> fixed on a public interface), in the nat table:

    <prefix>-pre    -d FLOATING/32 -j DNAT --to-destination FIXED      inbound (PREROUTING)
    <prefix>-out    -d FLOATING/32 -j DNAT --to-destination FIXED      from the host itself (OUTPUT)
    <prefix>-post   -s FIXED/32 -o IF -j SNAT --to-source FLOATING     the guest's outbound (POSTROUTING)

and FLOATING/32 on IF. The three chains belong to this module: `apply_rules` rewrites all of
them at once through the host's one iptables writer (cloudproj.host.iptables: one lock, one
`iptables-restore --noflush`; declaring a chain flushes only that chain, nothing else of the
table is touched), with the jumps from the built-in chains kept exactly once.
Every value is validated; commands are argument lists.
"""
import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from cloudproj.host import iptables as host_iptables
from cloudproj.host.iptables import Jump, Section
from cloudproj.host.run import HostCommandError, run
from network.linux import validate

log = logging.getLogger(__name__)

IP = "ip"
TABLE = "nat"
CONNTRACK = "conntrack"
FORWARDING = Path("/proc/sys/net/ipv4/ip_forward")
# chain names are at most 28 characters: the prefix leaves room for "-post"
_PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,22}\Z")
HOOKS = (("PREROUTING", "pre"), ("OUTPUT", "out"), ("POSTROUTING", "post"))


class InvalidValue(validate.InvalidValue):
    pass


@dataclass(frozen=True)
class Mapping:
    floating: str
    fixed: str
    interface: str

    def validated(self) -> "Mapping":
        floating, fixed = validate.ipv4(self.floating), validate.ipv4(self.fixed)
        if floating == fixed:
            raise InvalidValue(f"floating address {floating} equals its fixed address")
        return Mapping(floating, fixed, validate.ifname(self.interface))


def chain_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix):
        raise InvalidValue(f"invalid chain prefix {prefix!r}: a letter then up to 22 of [A-Za-z0-9_-]")
    return prefix


def chains(prefix: str) -> dict[str, str]:
    prefix = chain_prefix(prefix)
    return {suffix: f"{prefix}-{suffix}" for _hook, suffix in HOOKS}


# --- rules ------------------------------------------------------------------------------------


def rule_lines(mappings, prefix: str) -> list[str]:
    """The `-A` lines of the three chains for `mappings` (validated, in order)."""
    names = chains(prefix)
    lines = []
    for mapping in (m.validated() for m in mappings):
        lines.append(f"-A {names['pre']} -d {mapping.floating}/32 -j DNAT --to-destination {mapping.fixed}")
        lines.append(f"-A {names['out']} -d {mapping.floating}/32 -j DNAT --to-destination {mapping.fixed}")
        lines.append(f"-A {names['post']} -s {mapping.fixed}/32 -o {mapping.interface} "
                     f"-j SNAT --to-source {mapping.floating}")
    return lines


def jumps(prefix: str) -> list[Jump]:
    names = chains(prefix)
    return [Jump(hook, names[suffix]) for hook, suffix in HOOKS]


def section(mappings, prefix: str) -> Section:
    """Our three chains holding exactly the rules of `mappings`, jumped to from the built-ins."""
    return Section(TABLE, chains=list(chains(prefix).values()), rules=rule_lines(mappings, prefix),
                   jumps=jumps(prefix))


def ruleset(mappings, prefix: str, missing_jumps=()) -> str:
    """The iptables-restore input: our chains declared (so flushed) and refilled, and the jumps
    from the built-in chains that are missing (`missing_jumps`: hook names)."""
    counts = {jump: 0 if jump.builtin in missing_jumps else 1 for jump in jumps(prefix)}
    return host_iptables.render([section(mappings, prefix)], counts)


def present_jumps(prefix: str) -> set[str]:
    """The built-in chains that already jump to our chains."""
    return {jump.builtin for jump, count in host_iptables.jump_counts(TABLE, jumps(prefix)).items() if count}


def chain_rules(prefix: str) -> dict[str, list[str]]:
    """{chain: its `-A` lines} as iptables shows them ([] for a missing chain)."""
    return {name: host_iptables.rules(TABLE, name) or [] for name in chains(prefix).values()}


def apply_rules(mappings, prefix: str) -> int:
    """Make our three chains hold exactly the rules of `mappings`, in one iptables-restore
    (all or nothing). Returns the number of rules written."""
    wanted = section(mappings, prefix)  # validates before anything runs
    host_iptables.apply(wanted)
    return len(wanted.rules)


def remove_rules(prefix: str) -> None:
    """Remove the jumps and our chains (for operators and tests: a host leaving the cloud)."""
    host_iptables.apply(Section(TABLE, remove=list(chains(prefix).values()), unjump=jumps(prefix)))


# --- addresses on the public interface --------------------------------------------------------


def interface_exists(interface: str) -> bool:
    return Path("/sys/class/net", validate.ifname(interface)).exists()


def host_addresses(interface: str) -> set[str]:
    """The /32 IPv4 addresses of `interface` (what floating IPs look like)."""
    out = run([IP, "-j", "-4", "addr", "show", "dev", validate.ifname(interface)]).stdout
    found = set()
    for link in json.loads(out or "[]"):
        for info in link.get("addr_info", []):
            if info.get("family") == "inet" and int(info.get("prefixlen", 0)) == 32:
                found.add(info["local"])
    return found


def add_address(address: str, interface: str) -> bool:
    """FLOATING/32 on the interface. True if added (False: it was there)."""
    address, interface = validate.ipv4(address), validate.ifname(interface)
    proc = run([IP, "addr", "add", f"{address}/32", "dev", interface], check=False)
    if proc.returncode == 0:
        return True
    if address in host_addresses(interface):
        return False
    raise HostCommandError([IP, "addr", "add", f"{address}/32", "dev", interface], proc.returncode, proc.stderr)


def remove_address(address: str, interface: str) -> bool:
    """Remove FLOATING/32 from the interface. True if it was there."""
    address, interface = validate.ipv4(address), validate.ifname(interface)
    if not interface_exists(interface) or address not in host_addresses(interface):
        return False
    run([IP, "addr", "del", f"{address}/32", "dev", interface])
    return True


# --- the rest of the host ---------------------------------------------------------------------


def enable_forwarding() -> bool:
    """IPv4 forwarding on (nova-network does the same on its network host). True if changed."""
    if FORWARDING.read_text().strip() == "1":
        return False
    FORWARDING.write_text("1\n")
    log.info("enabled IPv4 forwarding for floating IPs")
    return True


def clean_conntrack(floating: str) -> None:
    """Forget the connections NATed through `floating` (best effort: only if `conntrack` exists),
    so a disassociated address stops carrying flows that were already established."""
    floating = validate.ipv4(floating)
    if shutil.which(CONNTRACK) is None:
        return
    for flag in ("--orig-dst", "--reply-dst"):
        run([CONNTRACK, "-D", flag, floating], check=False)
