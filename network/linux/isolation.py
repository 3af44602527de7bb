"""No forwarding between the bridges of VLAN (per-project) networks on a host.

Two chains of the filter table, the first jumped to from FORWARD (inserted first):

    -A CHAIN -m conntrack --ctstate DNAT -j RETURN      floating IPs (DNATed) still pass
    -A CHAIN -i BR -o BR -j RETURN                       traffic inside one bridge, per bridge
    -A CHAIN -o BR -j CHAIN-to                           towards a project bridge, per bridge
    -A CHAIN-to -i BR -j DROP                            ... from another project bridge

so the rule count grows linearly with the networks. Changes go through `iptables-restore
--noflush` naming only these chains (a declared chain is flushed, nothing else is touched),
serialised by a file lock. Several simulated agents may share a machine: `ensure` keeps the
bridges already in the chain that still exist, and adds the ones it is given.
"""
import logging
import re
import subprocess
import tempfile
from pathlib import Path

from . import validate
from .run import HostCommandError, file_lock, run

log = logging.getLogger(__name__)

IPTABLES, IPTABLES_RESTORE = "iptables", "iptables-restore"
JUMP_FROM = "FORWARD"
_CHAIN_RE = re.compile(r"^[A-Za-z0-9_.-]{1,25}\Z")  # + "-to" stays within iptables' 28 characters


def _chains(chain: str) -> tuple[str, str]:
    if not isinstance(chain, str) or not _CHAIN_RE.match(chain):
        raise validate.InvalidValue(f"invalid chain name {chain!r}")
    return chain, f"{chain}-to"


def lock_path(chain: str) -> Path:
    base = Path("/run/lock") if Path("/run/lock").is_dir() else Path(tempfile.gettempdir())
    return base / f"{chain}.lock"


def _lock(chain: str):
    return file_lock(lock_path(chain))


def current_bridges(chain: str) -> list[str] | None:
    """Bridges isolated by `chain` now (None: the chain does not exist)."""
    top, _ = _chains(chain)
    proc = run([IPTABLES, "-w", "-t", "filter", "-S", top], check=False)
    if proc.returncode != 0:
        return None
    bridges = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 8 and parts[2] == "-i" and parts[4] == "-o" and parts[3] == parts[5]:
            bridges.append(parts[3])
    return bridges


def _jump_present(top: str) -> bool:
    return run([IPTABLES, "-w", "-t", "filter", "-C", JUMP_FROM, "-j", top], check=False).returncode == 0


def render(chain: str, bridges: list[str], add_jump: bool) -> str:
    top, to = _chains(chain)
    bridges = [validate.ifname(b) for b in dict.fromkeys(bridges)]
    lines = ["*filter", f":{top} - [0:0]", f":{to} - [0:0]",
             f"-A {top} -m conntrack --ctstate DNAT -j RETURN"]
    lines += [f"-A {top} -i {b} -o {b} -j RETURN" for b in bridges]
    lines += [f"-A {top} -o {b} -j {to}" for b in bridges]
    lines += [f"-A {to} -i {b} -j DROP" for b in bridges]
    if add_jump:
        lines.append(f"-I {JUMP_FROM} 1 -j {top}")
    return "\n".join(lines + ["COMMIT", ""])


def _restore(text: str) -> None:
    argv = [IPTABLES_RESTORE, "-w", "--noflush"]
    proc = subprocess.run(argv, input=text, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise HostCommandError(argv, proc.returncode, proc.stderr or proc.stdout)


def ensure(chain: str, bridges: list[str]) -> list[str]:
    """Isolate `bridges` (plus those already isolated that still exist) from one another.
    Returns the isolated bridges; no change when already right."""
    top, _ = _chains(chain)
    with _lock(top):
        existing = current_bridges(top)
        kept = [b for b in (existing or []) if Path("/sys/class/net", b).exists()]
        wanted = list(dict.fromkeys(kept + [validate.ifname(b) for b in bridges]))
        jump = _jump_present(top)
        if existing is not None and existing == wanted and jump:
            return wanted
        _restore(render(top, wanted, add_jump=not jump))
        log.info("VLAN isolation chain %s: %s", top, wanted)
        return wanted


def remove(chain: str) -> None:
    """Remove both chains and the jump (nothing if absent)."""
    top, to = _chains(chain)
    with _lock(top):
        for _ in range(20):
            if run([IPTABLES, "-w", "-t", "filter", "-D", JUMP_FROM, "-j", top], check=False).returncode != 0:
                break
        for name in (top, to):
            run([IPTABLES, "-w", "-t", "filter", "-F", name], check=False)
        for name in (top, to):
            run([IPTABLES, "-w", "-t", "filter", "-X", name], check=False)
    lock_path(top).unlink(missing_ok=True)
