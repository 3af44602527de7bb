"""The libvirt driver: one connection per process to settings.LIBVIRT_URI.

`qemu:///system` drives real guests; `test:///default` (or `test:///<abs path to node
XML>`) is libvirt's own in-process test hypervisor, used to simulate hosts. The test
driver keeps its state inside the process, so a simulated host runs its tasks in one
process (threads or solo pool).
"""
import logging
import os
import socket
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

from django.conf import settings

from .driver import ComputeDriver, DriverError, HostStats

log = logging.getLogger(__name__)

try:  # libvirt-python is a runtime dependency; keep imports of this module cheap to fail
    import libvirt
except ImportError:  # pragma: no cover - reported when a connection is attempted
    libvirt = None
else:  # errors are raised as exceptions (and logged by us), not printed on stderr by libvirt
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

_connections: dict[str, object] = {}
_lock = threading.Lock()


def _open(uri: str):
    if libvirt is None:
        raise DriverError("libvirt-python is not installed")
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise DriverError(f"cannot connect to libvirt at {uri}: {exc}") from exc


def get_connection(uri: str):
    """The process-wide connection to `uri`, reopened if it died."""
    with _lock:
        conn = _connections.get(uri)
        if conn is not None:
            try:
                alive = conn.isAlive()
            except Exception:  # noqa: BLE001 - a broken connection object
                alive = False
            if alive:
                return conn
            log.warning("libvirt connection to %s died; reconnecting", uri)
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass
        conn = _open(uri)
        _connections[uri] = conn
        return conn


def _existing_dir(path: Path) -> Path:
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _disk_gb(path: Path) -> tuple[int, int]:
    """(total, available) GB of the filesystem holding `path`."""
    st = os.statvfs(_existing_dir(path))
    gib = 1024**3
    return (st.f_frsize * st.f_blocks) // gib, (st.f_frsize * st.f_bavail) // gib


def _host_ip() -> str | None:
    configured = getattr(settings, "HOST_IP", "") or os.environ.get("HOST_IP", "")
    if configured:
        return configured
    try:  # the address of the interface holding the default route (no packet is sent)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 9))
            return sock.getsockname()[0]
    except OSError:
        return "127.0.0.1"


def _cpu_info(capabilities_xml: str, info: list) -> dict:
    """Nova's cpu_info shape: arch, model, vendor, topology, features."""
    arch, _mem, _cpus, _mhz, _nodes, sockets, cores, threads = info[:8]
    result = {
        "arch": arch,
        "model": "",
        "vendor": "",
        "topology": {"sockets": sockets, "cores": cores, "threads": threads},
        "features": [],
    }
    try:
        cpu = ET.fromstring(capabilities_xml).find("host/cpu")
    except ET.ParseError:
        return result
    if cpu is None:
        return result
    result["arch"] = cpu.findtext("arch") or arch
    result["model"] = cpu.findtext("model") or ""
    result["vendor"] = cpu.findtext("vendor") or ""
    features = cpu.find("features")
    flags = [child.tag for child in features] if features is not None else []
    result["features"] = sorted({f.get("name") for f in cpu.findall("feature") if f.get("name")} | set(flags))
    return result


class LibvirtDriver(ComputeDriver):
    def __init__(self, uri: str | None = None, host: str | None = None):
        self.uri = uri or settings.LIBVIRT_URI
        self.host = host or settings.CLOUD_HOST

    @property
    def is_simulated(self) -> bool:
        return self.uri.startswith("test:")

    @property
    def conn(self):
        return get_connection(self.uri)

    def _call(self, what: str, fn, *args):
        """Call fn on the connection; on failure reconnect once and retry."""
        for attempt in (1, 2):
            try:
                return fn(self.conn, *args)
            except libvirt.libvirtError as exc:
                if attempt == 2:
                    raise DriverError(f"libvirt {what} failed: {exc}") from exc
                with _lock:
                    _connections.pop(self.uri, None)

    def list_instance_ids(self) -> list[int]:
        return list(self._call("listDomainsID", lambda c: c.listDomainsID()))

    def host_stats(self, refresh: bool = True) -> HostStats:
        info = self._call("getInfo", lambda c: c.getInfo())
        hv_type = self._call("getType", lambda c: c.getType())
        hv_version = self._call("getVersion", lambda c: c.getVersion())
        caps = self._call("getCapabilities", lambda c: c.getCapabilities())
        # Simulated hosts all report the same libvirt hostname: name them after the agent.
        hostname = self.host if self.is_simulated else self._call("getHostname", lambda c: c.getHostname())
        local_gb, available_gb = _disk_gb(settings.STATE_PATH)
        return HostStats(
            hypervisor_hostname=hostname,
            hypervisor_type=hv_type,
            hypervisor_version=int(hv_version),
            vcpus=int(info[2]),
            memory_mb=int(info[1]),
            local_gb=int(local_gb),
            disk_available_least=int(available_gb),
            running_vms=len(self.list_instance_ids()),
            cpu_info=_cpu_info(caps, info),
            host_ip=_host_ip(),
        )

    def close(self) -> None:
        with _lock:
            conn = _connections.pop(self.uri, None)
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass
