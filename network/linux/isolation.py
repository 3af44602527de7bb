"""No forwarding between the bridges of VLAN (per-project) networks on a host.

Two chains of the filter table, the first jumped to from FORWARD (inserted first):

    -A CHAIN -m conntrack --ctstate DNAT -j RETURN      floating IPs (DNATed) still pass
    -A CHAIN -i BR -o BR -j RETURN                       traffic inside one bridge, per bridge
    -A CHAIN -o BR -j CHAIN-to                           towards a project bridge, per bridge
    -A CHAIN-to -i BR -j DROP                            ... from another project bridge

so the rule count grows linearly with the networks. Changes go through the host's one
iptables writer (cloudproj.host.iptables: one lock, one `iptables-restore --noflush` naming
only these chains; a declared chain is flushed, nothing else is touched). Several simulated
agents may share a machine: `ensure` keeps the bridges already in the chain that still exist,
and adds the ones it is given.
"""
import logging
import re
from pathlib import Path

from django.conf import settings

from cloudproj.host import cloud
from cloudproj.host import iptables as host_iptables
from cloudproj.host.iptables import Jump, Section

from .. import validate

log = logging.getLogger(__name__)

TABLE = "filter"
JUMP_FROM = "FORWARD"
_CHAIN_RE = re.compile(r"^[A-Za-z0-9_.-]{1,25}\Z")  # + "-to" stays within iptables' 28 characters


def chain_of_cloud() -> str:
    """This cloud's isolation chain: VLAN_ISOLATION_CHAIN, else `<CLOUD_NAME>-vlan`."""
    return settings.VLAN_ISOLATION_CHAIN or cloud.chain("vlan")


def _chains(chain: str) -> tuple[str, str]:
    if not isinstance(chain, str) or not _CHAIN_RE.match(chain):
        raise validate.InvalidValue(f"invalid chain name {chain!r}")
    return chain, f"{chain}-to"


def current_bridges(chain: str) -> list[str] | None:
    """Bridges isolated by `chain` now (None: the chain does not exist)."""
    top, _ = _chains(chain)
    lines = host_iptables.rules(TABLE, top)
    if lines is None:
        return None
    bridges = []
    for line in lines:
        parts = line.split()
        if len(parts) == 8 and parts[2] == "-i" and parts[4] == "-o" and parts[3] == parts[5]:
            bridges.append(parts[3])
    return bridges


def _jump(top: str) -> Jump:
    return Jump(JUMP_FROM, top)


def section(chain: str, bridges: list[str]) -> Section:
    top, to = _chains(chain)
    bridges = [validate.ifname(b) for b in dict.fromkeys(bridges)]
    rules = [f"-A {top} -m conntrack --ctstate DNAT -j RETURN"]
    rules += [f"-A {top} -i {b} -o {b} -j RETURN" for b in bridges]
    rules += [f"-A {top} -o {b} -j {to}" for b in bridges]
    rules += [f"-A {to} -i {b} -j DROP" for b in bridges]
    return Section(TABLE, chains=[top, to], rules=rules, jumps=[_jump(top)])


def render(chain: str, bridges: list[str], add_jump: bool) -> str:
    top, _ = _chains(chain)
    return host_iptables.render([section(top, bridges)], {_jump(top): 0 if add_jump else 1})


def ensure(chain: str, bridges: list[str]) -> list[str]:
    """Isolate `bridges` (plus those already isolated that still exist) from one another.
    Returns the isolated bridges; no change when already right."""
    top, _ = _chains(chain)
    with host_iptables.lock():
        existing = current_bridges(top)
        kept = [b for b in (existing or []) if Path("/sys/class/net", b).exists()]
        wanted = list(dict.fromkeys(kept + [validate.ifname(b) for b in bridges]))
        jumps = host_iptables.jump_counts(TABLE, [_jump(top)])[_jump(top)]
        if existing is not None and existing == wanted and jumps == 1:
            return wanted
        host_iptables.apply(section(top, wanted))
        log.info("VLAN isolation chain %s: %s", top, wanted)
        return wanted


def remove(chain: str) -> None:
    """Remove both chains and the jump (nothing if absent)."""
    top, to = _chains(chain)
    with host_iptables.lock():
        if current_bridges(top) is None and host_iptables.rules(TABLE, to) is None:
            return
        host_iptables.apply(Section(TABLE, remove=[top, to], unjump=[_jump(top)]))
