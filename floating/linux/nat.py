"""Floating IP NAT on a host: the only code of the floating app that runs iptables and ip.

Per floating IP (a Mapping floating -> fixed on a public interface), in the nat table:

    <prefix>-pre    -d FLOATING/32 -j DNAT --to-destination FIXED      inbound (PREROUTING)
    <prefix>-out    -d FLOATING/32 -j DNAT --to-destination FIXED      from the host itself (OUTPUT)
    <prefix>-post   -s FIXED/32 -o IF -j SNAT --to-source FLOATING     the guest's outbound (POSTROUTING)

and FLOATING/32 on IF. The three chains belong to this module: `apply_rules` rewrites all of
them at once with `iptables-restore --noflush` (declaring a chain flushes only that chain;
nothing else of the table is touched) and inserts the jumps from the built-in chains once.
Every value is validated; commands are argument lists.
"""
import fcntl
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from network.linux import validate
from network.linux.run import HostCommandError, run

log = logging.getLogger(__name__)

IP = "ip"
IPTABLES = "iptables"
IPTABLES_RESTORE = "iptables-restore"
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


def ruleset(mappings, prefix: str, missing_jumps=()) -> str:
    """The iptables-restore input: our chains declared (so flushed) and refilled, and the jumps
    from the built-in chains that are missing (`missing_jumps`: hook names)."""
    names = chains(prefix)
    lines = ["*nat"]
    lines += [f":{name} - [0:0]" for name in names.values()]
    lines += rule_lines(mappings, prefix)
    for hook, suffix in HOOKS:
        if hook in missing_jumps:
            lines.append(f"-I {hook} 1 -j {names[suffix]}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def _nat(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([IPTABLES, "-w", "-t", "nat", *args], check=check)


def present_jumps(prefix: str) -> set[str]:
    """The built-in chains that already jump to our chains."""
    names = chains(prefix)
    present = set()
    for hook, suffix in HOOKS:
        listing = _nat("-S", hook).stdout.splitlines()
        if f"-A {hook} -j {names[suffix]}" in (line.strip() for line in listing):
            present.add(hook)
    return present


def chain_rules(prefix: str) -> dict[str, list[str]]:
    """{chain: its `-A` lines} as iptables shows them ([] for a missing chain)."""
    result = {}
    for name in chains(prefix).values():
        proc = _nat("-S", name, check=False)
        lines = proc.stdout.splitlines() if proc.returncode == 0 else []
        result[name] = [line for line in lines if line.startswith("-A ")]
    return result


def apply_rules(mappings, prefix: str) -> int:
    """Make our three chains hold exactly the rules of `mappings`, in one iptables-restore
    (all or nothing). Returns the number of rules written."""
    lines = rule_lines(mappings, prefix)  # validates before anything runs
    payload = ruleset(mappings, prefix, missing_jumps={h for h, _s in HOOKS} - present_jumps(prefix))
    argv = [IPTABLES_RESTORE, "-w", "--noflush"]
    proc = subprocess.run(argv, input=payload, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise HostCommandError(argv, proc.returncode, proc.stderr or proc.stdout)
    return len(lines)


def remove_rules(prefix: str) -> None:
    """Remove the jumps and our chains (for operators and tests: a host leaving the cloud)."""
    names = chains(prefix)
    for hook, suffix in HOOKS:
        while _nat("-D", hook, "-j", names[suffix], check=False).returncode == 0:
            pass
    for name in names.values():
        if _nat("-F", name, check=False).returncode == 0:
            _nat("-X", name, check=False)


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


@contextmanager
def host_lock():
    """Serialises the floating NAT changes of all the agents of this machine."""
    directory = Path("/run/lock")
    if not (directory.is_dir() and os.access(directory, os.W_OK)):
        directory = Path(tempfile.gettempdir())
    with open(directory / "cloudproj-floating-nat.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
