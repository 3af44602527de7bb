"""The one writer of the host's iptables (Nova's IptablesManager idea).

Every app declares what it owns as Sections: in one table, the chains it fills (declaring a
chain in `iptables-restore --noflush` input flushes it, so it ends up holding exactly the
section's rules), the jumps from built-in chains to them (kept exactly once, first in the
built-in chain: a missing jump is inserted, duplicates are deleted), and the chains it no
longer wants (deleted, with every jump to them). `apply` writes any number of sections in
ONE `iptables-restore --noflush` under ONE machine-wide lock: only the chains the sections
name are touched, so the rules of other programs (and of the other apps) survive.

    apply(Section("nat", chains=["fip-pre"], rules=["-A fip-pre ..."],
                  jumps=[Jump("PREROUTING", "fip-pre")]))
    apply(Section("filter", remove=["old-chain"], unjump=[Jump("FORWARD", "old-chain")]))
    with lock(): ...read with rules()/chains()/jump_counts(), then apply()...

The owners today: secgroups (filter: cpsg-*), floating (nat: <prefix>-pre/-out/-post),
metadata (nat and filter: <CLOUD_NAME>-metadata), network (filter: the VLAN isolation chains);
every chain is named for the cloud (cloudproj.host.cloud), so clouds sharing a machine never
touch each other's.
Values are validated by the owners before they reach a section; this module renders lines.
"""
import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .locks import file_lock
from .run import run

log = logging.getLogger(__name__)

IPTABLES = "iptables"
IPTABLES_RESTORE = "iptables-restore"
TABLES = ("filter", "nat")
LOCK_NAME = "cloudproj-iptables.lock"
RESTORE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Jump:
    """`-j chain` from the built-in chain `builtin`."""

    builtin: str
    chain: str

    def line(self) -> str:
        return f"-A {self.builtin} -j {self.chain}"


@dataclass(frozen=True)
class Section:
    """What one owner writes in one table.

    chains  declared: flushed, then they hold exactly `rules`
    rules   `-A chain ...` lines of those chains, in order
    jumps   built-in chain -> owned chain, kept exactly once at the top
    remove  chains deleted (flushed first)
    unjump  jumps deleted, every copy (those to removed chains must be listed here)
    """

    table: str
    chains: Sequence[str] = ()
    rules: Sequence[str] = ()
    jumps: Sequence[Jump] = ()
    remove: Sequence[str] = ()
    unjump: Sequence[Jump] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.table not in TABLES:
            raise ValueError(f"unknown iptables table {self.table!r}")


# --- rendering (pure) ----------------------------------------------------------------------------


def render(sections: Iterable[Section], jump_counts: Mapping[Jump, int] | None = None) -> str:
    """The iptables-restore input of `sections`, one block per table in order of appearance.

    `jump_counts`: how many copies of each jump exist now (a jump not in it counts as present
    once, i.e. nothing to repair). Per table: the declared chains, the jumps to delete, the
    chains to delete, the rules, the missing jumps inserted, the duplicate jumps deleted."""
    counts = jump_counts or {}
    by_table: dict[str, list[Section]] = {}
    for section in sections:
        by_table.setdefault(section.table, []).append(section)
    blocks = []
    for table, parts in by_table.items():
        declared = list(dict.fromkeys(c for s in parts for c in (*s.chains, *s.remove)))
        lines = [f"*{table}", *[f":{chain} - [0:0]" for chain in declared]]
        for jump in dict.fromkeys(j for s in parts for j in s.unjump):
            lines += [f"-D {jump.builtin} -j {jump.chain}"] * counts.get(jump, 0)
        lines += [f"-X {chain}" for chain in dict.fromkeys(c for s in parts for c in s.remove)]
        lines += [rule for s in parts for rule in s.rules]
        wanted = list(dict.fromkeys(j for s in parts for j in s.jumps))
        lines += [f"-I {jump.builtin} 1 -j {jump.chain}" for jump in wanted if counts.get(jump, 1) == 0]
        for jump in wanted:
            lines += [f"-D {jump.builtin} -j {jump.chain}"] * (counts.get(jump, 1) - 1)
        if len(lines) > 1:  # a table with nothing to do is left out
            blocks.append("\n".join([*lines, "COMMIT", ""]))
    return "".join(blocks)


def changes_jumps(section: Section, jump_counts: Mapping[Jump, int]) -> bool:
    """Whether applying `section` would insert, repair or delete one of its jumps."""
    return (any(jump_counts.get(j, 1) != 1 for j in section.jumps)
            or any(jump_counts.get(j, 0) > 0 for j in section.unjump))


# --- reading the host ----------------------------------------------------------------------------


def listing(table: str, chain: str | None = None) -> list[str] | None:
    """`iptables -S [chain]` of `table` as lines, or None when the chain does not exist."""
    argv = [IPTABLES, "-w", "-t", table, "-S"] + ([chain] if chain else [])
    proc = run(argv, check=chain is None)
    return proc.stdout.splitlines() if proc.returncode == 0 else None


def rules(table: str, chain: str) -> list[str] | None:
    """The `-A` lines of `chain` (stripped), or None when the chain does not exist."""
    lines = listing(table, chain)
    if lines is None:
        return None
    return [line.strip() for line in lines if line.startswith(f"-A {chain} ")]


def chains(table: str) -> set[str]:
    """The user-defined chains of `table`."""
    names = set()
    for line in listing(table) or []:
        parts = line.split()
        if len(parts) == 2 and parts[0] == "-N":
            names.add(parts[1])
    return names


def jump_counts(table: str, jumps: Iterable[Jump]) -> dict[Jump, int]:
    """How many copies of each jump its built-in chain holds now (one listing per built-in)."""
    wanted = list(dict.fromkeys(jumps))
    listings = {builtin: [line.split() for line in listing(table, builtin) or []]
                for builtin in dict.fromkeys(j.builtin for j in wanted)}
    return {jump: sum(1 for parts in listings[jump.builtin] if parts == jump.line().split()) for jump in wanted}


# --- writing -------------------------------------------------------------------------------------


def lock_path() -> Path:
    base = Path("/run/lock")
    if not (base.is_dir() and os.access(base, os.W_OK)):
        base = Path(tempfile.gettempdir())
    return base / LOCK_NAME


class _MachineLock:
    """A file lock taken once per process however deeply the holding thread nests it."""

    def __init__(self) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._thread_lock:
            if self._depth:  # this thread holds the file lock already
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with file_lock(lock_path()):
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0


_machine_lock = _MachineLock()


@contextmanager
def lock() -> Iterator[None]:
    """The one lock of every iptables change on this machine (threads and processes; the
    agents of several simulated hosts may share a machine). Re-entrant within a thread, so an
    owner can read, decide and apply under it."""
    with _machine_lock.hold():
        yield


def restore(text: str) -> None:
    """Apply restore input atomically, leaving every chain it does not name alone."""
    log.debug("iptables-restore --noflush:\n%s", text)
    run([IPTABLES_RESTORE, "-w", "--noflush"], input_text=text, timeout=RESTORE_TIMEOUT)


def apply(*sections: Section) -> str:
    """Write `sections` in one iptables-restore (all or nothing). Returns the input applied."""
    with lock():
        counts: dict[Jump, int] = {}
        for table in dict.fromkeys(s.table for s in sections):
            jumps = [j for s in sections if s.table == table for j in (*s.jumps, *s.unjump)]
            if jumps:
                counts.update(jump_counts(table, jumps))
        text = render(sections, counts)
        if text:
            restore(text)
        return text
