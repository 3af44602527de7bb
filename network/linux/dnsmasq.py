"""One dnsmasq per network on a host, bound to the network's bridge.

Files live under NETWORKS_PATH/<network id>/: `dnsmasq.pid`, `hosts` (MAC,IP,hostname per
line, regenerated whole from the DB and swapped in with a rename), `leases`, an empty
`dnsmasq.conf`, a `lock` serialising work on that network's files and process, and while the
agent cannot serve the network, `last-error` (why: what `./manage.py health` reports).
dnsmasq re-reads the hosts file on SIGHUP, but never its lease file (it keeps its leases in
memory and rewrites the file from them): a lease goes with a DHCPRELEASE (dnsmasq-utils'
`dhcp_release`, release_leases) or with a restart over a rewritten file (drop_leases).
"""
import logging
import os
import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from cloudproj.host.locks import file_lock
from cloudproj.host.run import HostCommandError, run

from .. import validate


log = logging.getLogger(__name__)

ERROR_FILE = "last-error"


@dataclass(frozen=True)
class DnsmasqConfig:
    network_id: int
    bridge: str
    gateway: str
    netmask: str
    dhcp_start: str
    dhcp_end: str | None = None  # None: "static" range (only hosts of the hosts file get an address)
    dns_servers: tuple = field(default_factory=tuple)
    domain: str = "novalocal"
    lease_time: int = 3600
    mtu: int | None = None
    # Multi-host: several hosts' dnsmasqs share the segment, each listening on its own address
    # and answering only its own instances (no --interface: it would bind every address of the
    # bridge; not authoritative: it would refuse the other hosts' clients).
    shared_segment: bool = False


@dataclass(frozen=True)
class HostEntry:
    mac: str
    ip: str
    hostname: str

    def line(self) -> str:
        return f"{validate.mac(self.mac)},{validate.ipv4(self.ip)},{validate.hostname(self.hostname)}"


def network_dir(network_id: int) -> Path:
    return Path(settings.NETWORKS_PATH) / str(validate.positive_int(int(network_id), "network id"))


def paths(network_id: int) -> dict[str, Path]:
    base = network_dir(network_id)
    return {
        "dir": base,
        "pid": base / "dnsmasq.pid",
        "hosts": base / "hosts",
        "leases": base / "leases",
        "conf": base / "dnsmasq.conf",
        "lock": base / "lock",
    }


def record_error(network_id: int, message: str) -> None:
    """Why this host cannot serve the network now (the supervision's last failure)."""
    p = _prepare(network_id)
    tmp = p["dir"] / ".last-error.tmp"
    tmp.write_text(" ".join(str(message).split())[:500] + "\n")
    os.replace(tmp, p["dir"] / ERROR_FILE)


def clear_error(network_id: int) -> None:
    (network_dir(network_id) / ERROR_FILE).unlink(missing_ok=True)


def _prepare(network_id: int) -> dict[str, Path]:
    p = paths(network_id)
    p["dir"].mkdir(parents=True, exist_ok=True)
    os.chmod(p["dir"], 0o755)  # dnsmasq re-reads the hosts file after dropping privileges
    if not p["conf"].exists():
        p["conf"].write_text("")
    if not p["hosts"].exists():
        p["hosts"].write_text("")
        os.chmod(p["hosts"], 0o644)
    return p


@contextmanager
def network_lock(network_id: int):
    """An exclusive lock on one network's files and process (across processes)."""
    p = _prepare(network_id)
    with file_lock(p["lock"]):
        yield p


def argv(cfg: DnsmasqConfig) -> list[str]:
    p = paths(cfg.network_id)
    bridge = validate.ifname(cfg.bridge)
    gateway = validate.ipv4(cfg.gateway)
    lease = validate.positive_int(cfg.lease_time, "lease time")
    start = validate.ipv4(cfg.dhcp_start)
    end = validate.ipv4(cfg.dhcp_end) if cfg.dhcp_end else "static"
    args = [
        settings.DNSMASQ_BINARY,
        "--strict-order",
        "--bind-interfaces",
        *([] if cfg.shared_segment else [f"--interface={bridge}"]),
        "--except-interface=lo",
        f"--listen-address={gateway}",
        f"--dhcp-range=set:net{cfg.network_id},{start},{end},{validate.ipv4(cfg.netmask)},{lease}s",
        f"--dhcp-hostsfile={p['hosts']}",
        f"--dhcp-leasefile={p['leases']}",
        f"--pid-file={p['pid']}",
        f"--conf-file={p['conf']}",
        "--no-hosts",
        f"--domain={validate.domain(cfg.domain)}",
        f"--dhcp-option=3,{gateway}",
        "--dhcp-no-override",
        *([] if cfg.shared_segment else ["--dhcp-authoritative"]),
    ]
    if cfg.dns_servers:
        args.append("--no-resolv")
        args += [f"--server={validate.ipv4(server)}" for server in cfg.dns_servers]
    if cfg.mtu:
        args.append(f"--dhcp-option=26,{validate.positive_int(cfg.mtu, 'mtu')}")
    return args


def render_hosts(entries) -> str:
    lines = sorted(HostEntry(*e).line() if not isinstance(e, HostEntry) else e.line() for e in entries)
    return "".join(line + "\n" for line in lines)


def write_hosts(network_id: int, entries) -> bool:
    """Replace the hosts file with `entries` (atomic rename). True if its content changed."""
    p = _prepare(network_id)
    content = render_hosts(entries)
    try:
        if p["hosts"].read_text() == content:
            return False
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=".hosts.", dir=p["dir"])
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, p["hosts"])
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def read_hosts(network_id: int) -> list[HostEntry]:
    try:
        text = paths(network_id)["hosts"].read_text()
    except FileNotFoundError:
        return []
    return [HostEntry(*line.split(",", 2)) for line in text.splitlines() if line.strip()]


def read_leases(network_id: int) -> dict[str, str]:
    """{mac: ip} of dnsmasq's lease file (expiry mac ip hostname client-id per line)."""
    result: dict[str, str] = {}
    try:
        text = paths(network_id)["leases"].read_text()
    except FileNotFoundError:
        return result
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            result[parts[1].lower()] = parts[2]
    return result


def pid(network_id: int) -> int | None:
    """The pid of this network's running dnsmasq, or None (a stale pid file is not trusted)."""
    p = paths(network_id)
    try:
        value = int(p["pid"].read_text().strip())
        cmdline = Path(f"/proc/{value}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    if not cmdline or not cmdline[0].endswith(b"dnsmasq") or f"--pid-file={p['pid']}".encode() not in cmdline:
        return None
    return value if _alive(value) else None


def _alive(process_id: int) -> bool:
    """The process exists and has not finished exiting (a zombie has closed its sockets)."""
    try:
        with open(f"/proc/{process_id}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return False


def is_running(network_id: int) -> bool:
    return pid(network_id) is not None


def _start(cfg: DnsmasqConfig) -> int:
    p = paths(cfg.network_id)
    p["pid"].unlink(missing_ok=True)
    run(argv(cfg))  # dnsmasq daemonises once it is bound: errors (busy port, bad option) surface here
    for _ in range(50):
        value = pid(cfg.network_id)
        if value:
            return value
        time.sleep(0.05)
    raise HostCommandError(argv(cfg), 1, "dnsmasq did not write its pid file")


def ensure(cfg: DnsmasqConfig, entries) -> str:
    """Write the hosts file; start dnsmasq if it is not running, SIGHUP it if the file changed.

    Returns "started", "reloaded" or "unchanged". Call it with network_lock held when the
    entries were read from the DB (so a stale read never overwrites a newer one).
    """
    changed = write_hosts(cfg.network_id, entries)
    running = pid(cfg.network_id)
    if running is None:
        _start(cfg)
        return "started"
    if changed:
        os.kill(running, signal.SIGHUP)
        return "reloaded"
    return "unchanged"


def _terminate(process_id: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout`; returns once the process is gone."""
    try:
        os.kill(process_id, signal.SIGTERM)
    except ProcessLookupError:
        return
    # Wait for the process itself, not pid(): while it exits its cmdline reads empty before
    # its sockets are closed, and a dnsmasq started then finds its address still in use.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(process_id):
        time.sleep(0.05)
    if _alive(process_id):
        try:
            os.kill(process_id, signal.SIGKILL)
        except ProcessLookupError:
            return
        while _alive(process_id) and time.monotonic() < deadline + timeout:
            time.sleep(0.05)


def stop(network_id: int, timeout: float = 5.0) -> bool:
    """Stop this network's dnsmasq. True if one was running."""
    running = pid(network_id)
    if running is None:
        paths(network_id)["pid"].unlink(missing_ok=True)
        return False
    _terminate(running, timeout)
    paths(network_id)["pid"].unlink(missing_ok=True)
    return True


def processes_under(base: Path | str | None = None) -> list[int]:
    """The running dnsmasq processes whose pid file is under `base` (NETWORKS_PATH: this
    cloud's), found in /proc by their command line whatever their pid files say: a killed run
    may have left a process whose pid file was removed or rewritten."""
    base = Path(base or settings.NETWORKS_PATH)
    prefixes = tuple({f"--pid-file={base}/".encode(), f"--pid-file={base.resolve()}/".encode()})
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (cmdline and cmdline[0].endswith(b"dnsmasq") and any(arg.startswith(prefixes) for arg in cmdline)
                and _alive(int(entry.name))):
            found.append(int(entry.name))
    return sorted(found)


def stop_all(base: Path | str | None = None, timeout: float = 5.0) -> list[int]:
    """Stop every dnsmasq of this cloud (processes_under `base`); their pid files go.
    Returns the pids stopped."""
    base = Path(base or settings.NETWORKS_PATH)
    stopped = processes_under(base)
    for process_id in stopped:
        _terminate(process_id, timeout)
    for pid_file in base.glob("*/dnsmasq.pid") if base.is_dir() else ():
        pid_file.unlink(missing_ok=True)
    return stopped


def _stale_leases(network_id: int, entries) -> tuple[list[str], list[tuple[str, str]]]:
    """(lease-file lines to keep, (mac, ip) of the leases no hosts-file entry accounts for)."""
    wanted = {(validate.mac(e.mac).lower(), validate.ipv4(e.ip)) for e in entries}
    try:
        lines = paths(network_id)["leases"].read_text().splitlines()
    except FileNotFoundError:
        return [], []
    keep, stale = [], []
    for line in lines:
        parts = line.split()
        if len(parts) >= 3 and (parts[1].lower(), parts[2]) not in wanted:
            stale.append((parts[1].lower(), parts[2]))
        else:
            keep.append(line)
    return keep, stale


def release_binary() -> str | None:
    """The path of dhcp_release (Debian: dnsmasq-utils), or None if it is not installed."""
    return shutil.which(settings.DHCP_RELEASE_BINARY)


def release_leases(cfg: DnsmasqConfig, entries) -> list[tuple[str, str]]:
    """Release the leases no hosts-file entry accounts for (a deleted instance's) with
    dhcp_release: a DHCPRELEASE on the bridge, on which the running dnsmasq forgets the lease
    and rewrites its lease file (asynchronously). Nothing is done when dhcp_release is not
    installed or dnsmasq is not running (drop_leases, the orphan pass's, then removes them).
    Call with network_lock held, after the hosts file lost their entries.
    Returns the (mac, ip) pairs a DHCPRELEASE was sent for."""
    binary = release_binary()
    if binary is None or pid(cfg.network_id) is None:
        return []
    bridge = validate.ifname(cfg.bridge)
    released = []
    for mac, ip in _stale_leases(cfg.network_id, entries)[1]:
        proc = run([binary, bridge, validate.ipv4(ip), validate.mac(mac)], check=False)
        if proc.returncode == 0:
            released.append((mac, ip))
        else:
            log.warning("dhcp_release %s %s on %s failed: %s", ip, mac, bridge, (proc.stderr or "").strip())
    return released


def drop_leases(cfg: DnsmasqConfig, entries, wait: float = 2.0) -> list[tuple[str, str]]:
    """Remove the leases no hosts-file entry accounts for ((mac, ip) pairs; an address handed
    to another MAC would otherwise be refused as "leased to" the old one). With dhcp_release
    they are released (release_leases) and, once dnsmasq's lease file no longer has them
    (up to `wait` seconds), that is all. Otherwise dnsmasq (which keeps its leases in memory
    and rewrites the file) is stopped, the file rewritten, and dnsmasq started again (only
    when there is something to drop). Call with network_lock held.
    Returns the dropped (mac, ip) pairs."""
    keep, dropped = _stale_leases(cfg.network_id, entries)
    if not dropped:
        return []
    if release_leases(cfg, entries):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not set(_stale_leases(cfg.network_id, entries)[1]) & set(dropped):
                return dropped
            time.sleep(0.1)
        keep, _still = _stale_leases(cfg.network_id, entries)
    p = paths(cfg.network_id)
    was_running = stop(cfg.network_id)
    tmp = p["leases"].with_name(".leases.tmp")
    tmp.write_text("".join(line + "\n" for line in keep))
    os.replace(tmp, p["leases"])
    if was_running:
        ensure(cfg, entries)
    return dropped
