"""802.1Q devices for VLAN networks: detected once per process, created where the kernel has them.

`support(interface)` tries it once (modprobe 8021q, then `ip link add link IF name PROBE type
vlan id 4094`, deleted right away) and remembers the answer: (True, "802.1Q available on IF")
or (False, "802.1Q not available: <the kernel's / ip's own message>"). Where it is missing
(these machines: "Error: Unknown device type."), callers skip the tagging step and say why;
the bridge is then NOT given the raw interface either (that would join every project's bridge
to one L2 segment).
"""
import logging
import threading

from cloudproj.host.run import HostCommandError, run

from . import validate
from .bridge import exists, master_of

log = logging.getLogger(__name__)

IP = "ip"
PROBE_VLAN_ID = 4094
_cache: dict[str, tuple[bool, str]] = {}
_lock = threading.Lock()


def device_name(prefix: str, vlan: int) -> str:
    return validate.ifname(f"{prefix}{int(vlan)}")


def _probe(interface: str, probe_name: str) -> tuple[bool, str]:
    if not exists(interface):
        return False, f"802.1Q not checked: vlan_interface {interface} does not exist"
    modprobe = ""
    try:
        proc = run(["modprobe", "8021q"], check=False)
        modprobe = (proc.stderr or "").strip() if proc.returncode else ""
    except FileNotFoundError:
        modprobe = "modprobe is not installed"
    if exists(probe_name):
        run([IP, "link", "del", "dev", probe_name], check=False)
    proc = run([IP, "link", "add", "link", interface, "name", probe_name, "type", "vlan",
                "id", str(PROBE_VLAN_ID)], check=False)
    if proc.returncode == 0:
        run([IP, "link", "del", "dev", probe_name], check=False)
        return True, f"802.1Q available on {interface}"
    message = (proc.stderr or proc.stdout or f"exit status {proc.returncode}").strip()
    if modprobe:
        message = f"{message} ({modprobe})"
    return False, f"802.1Q not available: {message}"


def support(interface: str, device_prefix: str = "vlan") -> tuple[bool, str]:
    """(supported, reason), probed once per process and interface."""
    validate.ifname(interface)
    with _lock:
        if interface not in _cache:
            probe_name = validate.ifname(f"{device_prefix}probe"[:15])
            _cache[interface] = _probe(interface, probe_name)
            log.info("VLAN tagging on %s: %s", interface, _cache[interface][1])
        return _cache[interface]


def reset_cache() -> None:
    with _lock:
        _cache.clear()


def ensure_device(name: str, interface: str, vlan: int, bridge: str) -> bool:
    """The 802.1Q device `name` (vlan id `vlan` on `interface`) exists, is up and is a port of
    `bridge`. True if created. Raises HostCommandError on failure."""
    validate.ifname(name), validate.ifname(interface), validate.ifname(bridge)
    if not 1 <= int(vlan) <= 4094:
        raise validate.InvalidValue(f"invalid vlan id {vlan!r}")
    created = False
    if not exists(name):
        proc = run([IP, "link", "add", "link", interface, "name", name, "type", "vlan", "id", str(int(vlan))],
                   check=False)
        if proc.returncode != 0 and not exists(name):
            raise HostCommandError([IP, "link", "add", name], proc.returncode, proc.stderr)
        created = proc.returncode == 0
    run([IP, "link", "set", "dev", interface, "up"])
    if master_of(name) != bridge:
        run([IP, "link", "set", "dev", name, "master", bridge])
    run([IP, "link", "set", "dev", name, "up"])
    return created


def is_vlan_device(name: str) -> bool:
    """True if link `name` exists and is an 802.1Q device (never touch anything else)."""
    import json

    if not exists(name):
        return False
    proc = run([IP, "-d", "-j", "link", "show", "dev", validate.ifname(name)], check=False)
    if proc.returncode != 0:
        return False
    links = json.loads(proc.stdout or "[]")
    return bool(links) and links[0].get("linkinfo", {}).get("info_kind") == "vlan"


def delete_device(name: str) -> bool:
    """Remove the 802.1Q device `name` when it exists and is one. True if removed."""
    if not is_vlan_device(name):
        return False
    proc = run([IP, "link", "del", "dev", name], check=False)
    if proc.returncode != 0 and exists(name):
        raise HostCommandError([IP, "link", "del", name], proc.returncode, proc.stderr)
    return True
