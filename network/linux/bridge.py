"""Linux bridges through `ip`: idempotent create (with the gateway address), enslave, delete."""
import json
from pathlib import Path

from cloudproj.host.run import HostCommandError, run

from . import validate

IP = "ip"


def exists(name: str) -> bool:
    return Path("/sys/class/net", validate.ifname(name)).exists()


def is_bridge(name: str) -> bool:
    return Path("/sys/class/net", validate.ifname(name), "bridge").exists()


def addresses(name: str) -> list[str]:
    """IPv4 addresses of `name` as 'a.b.c.d/prefix'."""
    out = run([IP, "-j", "-4", "addr", "show", "dev", validate.ifname(name)]).stdout
    result = []
    for link in json.loads(out or "[]"):
        for info in link.get("addr_info", []):
            if info.get("family") == "inet":
                result.append(f"{info['local']}/{info['prefixlen']}")
    return result


def master_of(name: str) -> str | None:
    link = Path("/sys/class/net", validate.ifname(name), "master")
    return link.resolve().name if link.exists() else None


def ensure_bridge(name: str, gateway_cidr: str | None = None, interface: str | None = None,
                  mtu: int | None = None) -> bool:
    """Bridge `name` exists, is up, has `gateway_cidr` and enslaves `interface`. True if created."""
    validate.ifname(name)
    created = False
    if not exists(name):
        try:
            run([IP, "link", "add", "name", name, "type", "bridge"])
            created = True
        except HostCommandError:
            if not exists(name):  # lost a race with another worker: fine; else a real error
                raise
    if not is_bridge(name):
        raise HostCommandError([IP, "link", "add", name], 2, f"{name} exists and is not a bridge")
    if mtu:
        run([IP, "link", "set", "dev", name, "mtu", str(validate.positive_int(mtu, "mtu"))])
    run([IP, "link", "set", "dev", name, "up"])
    if gateway_cidr:
        gateway_cidr = validate.ipv4_interface(gateway_cidr)
        if gateway_cidr not in addresses(name):
            proc = run([IP, "addr", "add", gateway_cidr, "brd", "+", "dev", name], check=False)
            if proc.returncode != 0 and gateway_cidr not in addresses(name):
                raise HostCommandError([IP, "addr", "add", gateway_cidr], proc.returncode, proc.stderr)
    if interface:
        validate.ifname(interface)
        if not exists(interface):
            raise HostCommandError([IP, "link", "set", interface], 1, f"interface {interface} does not exist")
        if master_of(interface) != name:
            run([IP, "link", "set", "dev", interface, "master", name])
        run([IP, "link", "set", "dev", interface, "up"])
    return created


def delete_bridge(name: str) -> bool:
    """Remove the bridge (its ports are released, not deleted). True if it existed."""
    if not exists(name):
        return False
    run([IP, "link", "set", "dev", name, "down"], check=False)
    proc = run([IP, "link", "del", "dev", name], check=False)
    if proc.returncode != 0 and exists(name):
        raise HostCommandError([IP, "link", "del", name], proc.returncode, proc.stderr)
    return True
