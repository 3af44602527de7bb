"""The metadata address on a host: one chain `<CLOUD_NAME>-metadata` (`cloudproj-metadata` for
the default cloud; chain() below) in the nat table (jumped to from PREROUTING) and one of the
same name in the filter table (jumped to from INPUT). Another cloud on the machine has its own
pair, so neither one's pruning or teardown touches the other's rules.

Per bridge that serves a network:

    nat     -A CHAIN -d 169.254.169.254/32 -i BR -p tcp -m tcp --dport 80
                -j DNAT --to-destination HOST:PORT
    filter  -A CHAIN -d HOST/32 -i BR -p tcp -m tcp --dport PORT -j ACCEPT

The filter rule matters where INPUT's policy drops; with ACCEPT it changes nothing.

Several agents may share a machine (tests and benchmarks simulate hosts), each knowing only
its own bridges: `ensure` replaces the rules of the bridges it is given and keeps the others,
except rules of bridges that no longer exist (pruned). The read-modify-write runs under the
lock of the host's one iptables writer (cloudproj.host.iptables) and is applied atomically
with its `iptables-restore --noflush`, which touches only the chains named in its input:
rules the project does not own are never touched. Every value is validated.
"""
import logging
import shlex
from dataclasses import dataclass
from pathlib import Path

from cloudproj.host import cloud
from cloudproj.host import iptables as host_iptables
from cloudproj.host.iptables import Jump, Section
from network import validate

log = logging.getLogger(__name__)

METADATA_ADDRESS = "169.254.169.254"
METADATA_PORT = 80
JUMPS = {"nat": "PREROUTING", "filter": "INPUT"}


def chain() -> str:
    """This cloud's chain (in both tables)."""
    return cloud.chain("metadata")


@dataclass(frozen=True)
class MetadataRule:
    """Guests on `bridge` reach the metadata service at `address`:`port` through 169.254.169.254:80."""

    bridge: str
    address: str
    port: int

    def __post_init__(self):
        validate.ifname(self.bridge)
        object.__setattr__(self, "address", validate.ipv4(self.address))
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise validate.InvalidValue(f"invalid port {self.port!r}")

    def lines(self) -> dict[str, str]:
        """The rule of each table, as `iptables -S` prints it."""
        return {
            "nat": (f"-A {chain()} -d {METADATA_ADDRESS}/32 -i {self.bridge} -p tcp -m tcp --dport {METADATA_PORT} "
                    f"-j DNAT --to-destination {self.address}:{self.port}"),
            "filter": (f"-A {chain()} -d {self.address}/32 -i {self.bridge} -p tcp -m tcp --dport {self.port} "
                       f"-j ACCEPT"),
        }


def _bridge_of(line: str) -> str | None:
    tokens = shlex.split(line)
    return tokens[tokens.index("-i") + 1] if "-i" in tokens[:-1] else None


def current_rules(table: str) -> list[str] | None:
    """The `-A` lines of our chain in `table`, or None when the chain does not exist."""
    return host_iptables.rules(table, chain())


def _jump(table: str) -> Jump:
    return Jump(JUMPS[table], chain())


def _jump_count(table: str) -> int:
    """How many jumps to our chain its parent holds (more than one only if something raced us)."""
    return host_iptables.jump_counts(table, [_jump(table)])[_jump(table)]


def _bridge_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def _desired(existing: list[str], table: str, rules: list[MetadataRule], drop: set[str]) -> list[str]:
    """Our rules for the bridges of `rules`, then the kept rules of other bridges (in order)."""
    replaced = {rule.bridge for rule in rules} | drop
    kept = []
    for line in existing:
        bridge = _bridge_of(line)
        if bridge is None or bridge in replaced or not _bridge_exists(bridge):
            continue
        kept.append(line)
    ours = list(dict.fromkeys(rule.lines()[table] for rule in rules))
    return ours + [line for line in kept if line not in ours]


def _apply(rules: list[MetadataRule], drop: set[str]) -> bool:
    """Make both chains hold `rules` (replacing those of their bridges), drop the bridges in
    `drop` and prune bridges that are gone. Returns True if anything changed."""
    sections = []
    for table in JUMPS:
        existing = current_rules(table)
        wanted = _desired(existing or [], table, rules, drop)
        if not wanted:
            if existing is not None:  # nothing left: remove the chain and every jump (or -X fails)
                sections.append(Section(table, remove=[chain()], unjump=[_jump(table)]))
            continue
        chain_ok = existing is not None and sorted(existing) == sorted(wanted)
        if chain_ok and _jump_count(table) == 1:
            continue
        # declaring the chain flushes it; a missing jump is inserted, duplicates go
        sections.append(Section(table, chains=[chain()], rules=wanted, jumps=[_jump(table)]))
    if sections:
        host_iptables.apply(*sections)
    return bool(sections)


def ensure(rules: list[MetadataRule]) -> bool:
    """The DNAT + ACCEPT of each rule's bridge, exactly once; rules of other bridges are kept
    (those of bridges that no longer exist are pruned). True if iptables was changed."""
    with host_iptables.lock():
        return _apply(list(rules), set())


def remove(bridges) -> bool:
    """Remove the rules of `bridges` (and the chains with their jumps when nothing is left)."""
    drop = {validate.ifname(bridge) for bridge in bridges}
    with host_iptables.lock():
        return _apply([], drop)


def rules_of(bridge: str) -> dict[str, list[str]]:
    """Our lines of `bridge` in each table (for reports and tests)."""
    validate.ifname(bridge)
    return {table: [line for line in (current_rules(table) or []) if _bridge_of(line) == bridge] for table in JUMPS}


def remove_chains() -> list[str]:
    """This cloud's chain in both tables, and its jumps (every copy), deleted in one restore
    (cloud teardown). Returns the tables it was in."""
    with host_iptables.lock():
        present = [table for table in JUMPS if current_rules(table) is not None]
        if present:
            host_iptables.apply(*[Section(table, remove=[chain()], unjump=[_jump(table)]) for table in present])
    return present
