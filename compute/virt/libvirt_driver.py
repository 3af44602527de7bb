"""The libvirt driver: one connection per process to settings.LIBVIRT_URI.

`qemu:///system` drives real guests; `test:///default` (or `test:///<abs path to node
XML>`) is libvirt's own in-process test hypervisor, used to simulate hosts. The test
driver keeps its state inside the process, so a simulated host runs its tasks in one
process (threads or solo pool).
"""
import logging
import os
import shutil
import socket
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET
from pathlib import Path

from django.conf import settings

from . import power_state as ps
from . import volume_attach
from .console import DEFAULT_MAX_BYTES, read_tail
from .diagnostics import domain_diagnostics
from .domain_xml import build_domain_xml, parse_host, retarget
from .driver import (
    ComputeDriver,
    DriverError,
    HostStats,
    HypervisorUnavailable,
    InstanceExists,
    InstanceInfo,
    InstanceInvalidState,
    InstanceNotFound,
    InstanceTimeout,
    MigrationAborted,
)
from .spec import NAME_RE, InstanceSpec

log = logging.getLogger(__name__)

try:  # libvirt-python is a runtime dependency; keep imports of this module cheap to fail
    import libvirt
except ImportError:  # pragma: no cover - reported when a connection is attempted
    libvirt = None
else:  # errors are raised as exceptions (and logged by us), not printed on stderr by libvirt
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)

_connections: dict[str, "libvirt.virConnect"] = {}
_lock = threading.Lock()


def _open(uri: str):
    if libvirt is None:
        raise HypervisorUnavailable("libvirt-python is not installed (pip install libvirt-python)")
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise HypervisorUnavailable(f"cannot connect to libvirt at {uri}: {exc}") from exc


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
            except Exception:  # noqa: BLE001 - closing a dead connection may fail any way
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


def _host_ip() -> str:
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


def _err_code(exc) -> int | None:
    try:
        return exc.get_error_code()
    except Exception:  # noqa: BLE001 - not every exception carries a libvirt code
        return None


def _is_connection_error(exc, conn) -> bool:
    """True when `exc` means the connection is gone (libvirtd restarted or died)."""
    code, domain = _err_code(exc), None
    try:
        domain = exc.get_error_domain()
    except Exception:  # noqa: BLE001 - not every exception carries a libvirt domain
        pass
    if code in (libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_ERR_INVALID_CONN, libvirt.VIR_ERR_RPC):
        return True
    if code in (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_INTERNAL_ERROR) and domain in (
        libvirt.VIR_FROM_REMOTE,
        libvirt.VIR_FROM_RPC,
    ):
        return True
    try:
        return not conn.isAlive()
    except Exception:  # noqa: BLE001 - a connection that cannot answer is dead
        return True


def _map_error(what: str, ref, exc) -> DriverError:
    code = _err_code(exc)
    message = str(exc)
    subject = f"instance {ref}" if ref is not None else "libvirt"
    if code == libvirt.VIR_ERR_NO_DOMAIN:
        return InstanceNotFound(f"{subject} does not exist on this host ({what}: {message})")
    if code == libvirt.VIR_ERR_OPERATION_INVALID:
        return InstanceInvalidState(f"{subject}: cannot {what} in its current state: {message}")
    if code == getattr(libvirt, "VIR_ERR_DOM_EXIST", -1) or "already exists" in message:
        return InstanceExists(f"{subject}: {what} failed, a conflicting domain exists: {message}")
    return DriverError(f"{subject}: libvirt {what} failed: {message}")


def _ref_of(instance) -> str:
    """A domain name or uuid string from a spec, a name or a uuid."""
    if isinstance(instance, InstanceSpec):
        return instance.name
    if isinstance(instance, uuidlib.UUID):
        return str(instance)
    if isinstance(instance, str) and instance:
        return instance
    raise DriverError(f"an instance is an InstanceSpec, a name or a uuid, not {instance!r}")


def _is_uuid(ref: str) -> bool:
    try:
        uuidlib.UUID(ref)
    except ValueError:
        return False
    return True


def _lookup(conn, ref: str):
    return conn.lookupByUUIDString(ref) if _is_uuid(ref) else conn.lookupByName(ref)


def _power(dom) -> int:
    state, _reason = dom.state()
    managed = False
    if state == libvirt.VIR_DOMAIN_SHUTOFF:
        try:
            managed = bool(dom.hasManagedSaveImage(0))
        except libvirt.libvirtError:
            managed = False
    return ps.from_libvirt(state, managed)


class LibvirtDriver(ComputeDriver):
    """The libvirt implementation of ComputeDriver (see driver.py for the contract).

    Domains are persistent (define + create), so a stopped instance keeps its definition
    and a hard reboot can rebuild it from the spec. `suspend` is libvirt's managed save
    (memory written to disk, QEMU exits, `create` restores it); `pause` stops the vCPUs.
    """

    poll_interval = 0.1

    def __init__(self, uri: str | None = None, host: str | None = None, instances_path=None):
        self.uri = uri or settings.LIBVIRT_URI
        self.host = host or settings.CLOUD_HOST
        self.instances_path = Path(instances_path or settings.INSTANCES_PATH)

    @property
    def is_simulated(self) -> bool:
        return self.uri.startswith("test:")

    @property
    def conn(self):
        return get_connection(self.uri)

    # -- connection plumbing --------------------------------------------------------
    def _call(self, what: str, fn, *args, ref=None):
        """fn(conn, *args); when the connection turns out dead, reopen once and retry.
        libvirt errors become DriverError subclasses."""
        for attempt in (1, 2):
            conn = self.conn
            try:
                return fn(conn, *args)
            except libvirt.libvirtError as exc:
                if attempt == 1 and _is_connection_error(exc, conn):
                    log.warning("libvirt connection to %s lost during %s (%s); reconnecting", self.uri, what, exc)
                    with _lock:
                        if _connections.get(self.uri) is conn:
                            _connections.pop(self.uri, None)
                    try:
                        conn.close()
                    except Exception:  # noqa: BLE001 - closing a dead connection may fail any way
                        pass
                    continue
                raise _map_error(what, ref, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _dom_call(self, what: str, instance, fn):
        """fn(domain) for the domain named by `instance` (InstanceNotFound if absent)."""
        ref = _ref_of(instance)
        return self._call(what, lambda conn: fn(_lookup(conn, ref)), ref=ref)

    def _wait_for(self, instance, states: tuple, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            state = self.get_power_state(instance)
            if state in states:
                return state
            if time.monotonic() >= deadline:
                names = "/".join(ps.STATE_NAMES[s] for s in states)
                raise InstanceTimeout(
                    f"instance {_ref_of(instance)} is {ps.STATE_NAMES.get(state, state)}, "
                    f"not {names}, after {timeout:g}s"
                )
            time.sleep(self.poll_interval)

    # -- host ---------------------------------------------------------------------
    def list_instance_ids(self) -> list[int]:
        return list(self._call("listDomainsID", lambda c: c.listDomainsID()))

    def list_instances(self) -> list[str]:
        return sorted(self._call("listAllDomains", lambda c: [d.name() for d in c.listAllDomains(0)]))

    def instance_exists(self, instance) -> bool:
        try:
            self._dom_call("lookup", instance, lambda d: d.name())
        except InstanceNotFound:
            return False
        return True

    def domain_owner(self, instance) -> str | None:
        """The host named in the domain's cloudproj metadata (None: absent, or a foreign
        domain that has none)."""
        try:
            xml = self._dom_call("XMLDesc", instance, lambda d: d.XMLDesc(0))
        except InstanceNotFound:
            return None
        try:
            return parse_host(xml)
        except ET.ParseError:
            return None

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
            cpu_info=self._cpu_info(caps, info),
            host_ip=_host_ip(),
        )

    def _cpu_info(self, caps: str, info: list) -> dict:
        cpu_info = _cpu_info(caps, info)
        if self.is_simulated:  # the test driver's capabilities always say i686: the node XML's <model> is the arch
            cpu_info["arch"] = info[0]
        return cpu_info

    # -- state --------------------------------------------------------------------
    def get_info(self, instance) -> InstanceInfo:
        def info(dom):
            _state, max_mem, mem, ncpu, cpu_time = dom.info()
            return InstanceInfo(
                state=_power(dom),
                max_mem_kb=int(max_mem),
                mem_kb=int(mem),
                num_cpu=int(ncpu),
                cpu_time_ns=int(cpu_time),
                uuid=dom.UUIDString(),
                name=dom.name(),
            )

        return self._dom_call("get_info", instance, info)

    def get_diagnostics(self, instance) -> dict:
        return self._dom_call("get_diagnostics", instance, domain_diagnostics)

    def _existing_state(self, instance) -> int:
        """The power state; InstanceNotFound when the domain does not exist."""
        state = self.get_power_state(instance)
        if state == ps.NOSTATE and not self.instance_exists(instance):
            raise InstanceNotFound(f"instance {_ref_of(instance)} does not exist on this host")
        return state

    def get_power_state(self, instance) -> int:
        try:
            return self._dom_call("state", instance, _power)
        except InstanceNotFound:
            return ps.NOSTATE

    # -- lifecycle ----------------------------------------------------------------
    def _define(self, spec: InstanceSpec):
        """Define (or redefine) the persistent domain of `spec`; refuse a name clash."""
        xml = build_domain_xml(spec)
        Path(spec.instance_dir).mkdir(parents=True, exist_ok=True)

        def define(conn):
            try:
                other = conn.lookupByName(spec.name)
            except libvirt.libvirtError as exc:
                if _err_code(exc) != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
            else:
                if other.UUIDString() != spec.uuid:
                    raise InstanceExists(
                        f"instance {spec.name}: a domain of that name exists with uuid {other.UUIDString()}, "
                        f"not {spec.uuid}"
                    )
            return conn.defineXML(xml)

        return self._call("defineXML", define, ref=spec.name)

    def _start(self, spec: InstanceSpec, timeout: float) -> int:
        self._dom_call("create", spec, lambda d: d.create())
        return self._wait_for(spec, (ps.RUNNING,), timeout)

    def define(self, spec: InstanceSpec) -> int:
        """The persistent domain of `spec`, not started (a rebuild of a stopped server)."""
        self._define(spec)
        return self.get_power_state(spec)

    def spawn(self, spec: InstanceSpec, timeout: float = 60.0) -> int:
        """Create INSTANCES dir, define + start the domain, wait until it runs.

        Idempotent for a re-delivered task: a running/paused domain with the same uuid is
        left alone. If starting fails, a domain this call defined is undefined again."""
        existed = self.instance_exists(spec.uuid)
        if existed:
            state = self.get_power_state(spec.uuid)
            if state in (ps.RUNNING, ps.PAUSED):
                return state
        self._define(spec)
        try:
            self._dom_call("managedSaveRemove", spec, _remove_managed_save)
            return self._start(spec, timeout)
        except Exception:
            if not existed:
                try:
                    self.destroy(spec.uuid)
                except DriverError:
                    log.exception("could not clean up the domain of failed spawn %s", spec.name)
            raise

    def destroy(self, instance, cleanup_files: bool = False) -> bool:
        """Stop (hard) and undefine; True if a domain was removed, False if absent.
        With cleanup_files, remove the instance directory (console log, and the disk if
        the image helper put it there) too."""
        def remove(dom):
            name = dom.name()
            if dom.isActive():
                try:
                    dom.destroy()
                except libvirt.libvirtError as exc:
                    if _err_code(exc) != libvirt.VIR_ERR_OPERATION_INVALID:  # stopped meanwhile
                        raise
            _undefine(dom)
            return name

        try:
            name = self._dom_call("destroy", instance, remove)
            removed = True
        except InstanceNotFound:
            name, removed = None, False
        if cleanup_files:
            self._cleanup_files(instance, name)
        return removed

    def _cleanup_files(self, instance, name: str | None) -> None:
        if isinstance(instance, InstanceSpec):
            directory, name = Path(instance.instance_dir), instance.name
        elif name or (isinstance(instance, str) and NAME_RE.match(instance) and not _is_uuid(instance)):
            name = name or instance
            directory = self.instances_path / name
        else:
            return
        # only ever remove a directory named after the instance (never a parent)
        if directory.name == name and NAME_RE.match(name) and directory.is_dir():
            shutil.rmtree(directory, ignore_errors=True)

    def reboot(self, spec: InstanceSpec, hard: bool = False, timeout: float = 120.0) -> int:
        """Soft: ACPI shutdown, wait up to `timeout` for the guest to power off, start the
        same definition again (Nova's way: a shut-off domain is an unambiguous signal that
        the guest obeyed). A guest that ignores ACPI, or a domain that is not running, is
        hard rebooted. Hard: destroy, redefine from the spec (same uuid), start."""
        if not hard and self.get_power_state(spec) == ps.RUNNING:
            try:
                self._dom_call("shutdown", spec, lambda d: d.shutdown())
                self._wait_for(spec, (ps.SHUTDOWN,), timeout)
            except (InstanceTimeout, InstanceInvalidState, DriverError) as exc:
                log.warning("soft reboot of %s failed (%s); rebooting hard", spec.name, exc)
            else:
                return self._start(spec, timeout=max(timeout, 30.0))
        return self._hard_reboot(spec, timeout=max(timeout, 30.0))

    def _hard_reboot(self, spec: InstanceSpec, timeout: float) -> int:
        def stop(dom):
            if dom.isActive():
                dom.destroy()

        try:
            self._dom_call("destroy", spec, stop)
        except InstanceNotFound:
            pass
        self._define(spec)
        self._dom_call("managedSaveRemove", spec, _remove_managed_save)
        return self._start(spec, timeout)

    def power_off(self, instance, timeout: float = 60.0) -> int:
        """ACPI shutdown, then destroy after `timeout` seconds (0: destroy at once).
        A stopped or suspended domain is left as it is."""
        state = self._existing_state(instance)
        if state in (ps.SHUTDOWN, ps.SUSPENDED):
            return state
        if timeout > 0 and state == ps.RUNNING:
            try:
                self._dom_call("shutdown", instance, lambda d: d.shutdown())
                return self._wait_for(instance, (ps.SHUTDOWN,), timeout)
            except (InstanceTimeout, InstanceInvalidState) as exc:
                log.info("%s did not power off cleanly (%s); destroying it", _ref_of(instance), exc)

        def stop(dom):
            try:
                dom.destroy()
            except libvirt.libvirtError as exc:
                if _err_code(exc) != libvirt.VIR_ERR_OPERATION_INVALID:
                    raise

        self._dom_call("destroy", instance, stop)
        return self._wait_for(instance, (ps.SHUTDOWN,), 10.0)

    def power_on(self, spec: InstanceSpec, timeout: float = 60.0) -> int:
        """Start a stopped instance; the definition is refreshed from the spec first (a
        managed-save image, if any, is restored instead so no guest memory is lost)."""
        state = self.get_power_state(spec)
        if state in (ps.RUNNING, ps.PAUSED):
            return state
        if state == ps.SUSPENDED:
            return self._start(spec, timeout)
        self._define(spec)
        return self._start(spec, timeout)

    def pause(self, instance) -> int:
        """Stop the vCPUs (the QEMU process and its memory stay)."""
        state = self._existing_state(instance)
        _require(instance, state, (ps.RUNNING, ps.PAUSED), "paused")
        if state != ps.PAUSED:
            self._dom_call("suspend", instance, lambda d: d.suspend())
        return self._wait_for(instance, (ps.PAUSED,), 10.0)

    def trigger_crash_dump(self, instance) -> None:
        """virDomainInjectNMI on a running (or paused) domain."""
        state = self._existing_state(instance)
        _require(instance, state, (ps.RUNNING, ps.PAUSED), "sent an NMI")
        self._dom_call("injectNMI", instance, lambda d: d.injectNMI(0))

    def unpause(self, instance) -> int:
        state = self._existing_state(instance)
        _require(instance, state, (ps.RUNNING, ps.PAUSED), "unpaused")
        if state == ps.PAUSED:
            self._dom_call("resume", instance, lambda d: d.resume())
        return self._wait_for(instance, (ps.RUNNING,), 10.0)

    def suspend(self, instance) -> int:
        """Managed save: guest memory goes to libvirt's save dir, QEMU exits; power state
        SUSPENDED (shut off + managed-save image)."""
        state = self._existing_state(instance)
        if state == ps.SUSPENDED:
            return state
        _require(instance, state, (ps.RUNNING, ps.PAUSED), "suspended")
        self._dom_call("managedSave", instance, lambda d: d.managedSave(0))
        return self._wait_for(instance, (ps.SUSPENDED,), 10.0)

    def resume(self, spec: InstanceSpec, timeout: float = 60.0) -> int:
        """Restore a suspended instance (create() loads the managed-save image). Without an
        image (e.g. lost), the instance is powered on from the spec instead."""
        state = self.get_power_state(spec)
        if state == ps.RUNNING:
            return state
        if state == ps.PAUSED:
            return self.unpause(spec)
        if state == ps.SUSPENDED:
            return self._start(spec, timeout)
        return self.power_on(spec, timeout)

    def console_log(self, instance, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
        """The last `max_bytes` of the serial console log ("" before the guest wrote any).
        `instance` is a spec, an absolute path of the log, or an instance name."""
        if isinstance(instance, InstanceSpec):
            path = Path(instance.console_log_path)
        elif isinstance(instance, (str, os.PathLike)) and os.path.isabs(os.fspath(instance)):
            path = Path(instance)
        elif isinstance(instance, str) and NAME_RE.match(instance) and not _is_uuid(instance):
            path = self.instances_path / instance / "console.log"
        else:
            raise DriverError(f"console_log needs a spec, a log path or an instance name, not {instance!r}")
        return read_tail(path, max_bytes)

    def get_vnc_address(self, instance) -> tuple[str, int] | None:
        """(listen address, port) of the running domain's VNC server, read from its live XML
        (autoport: the port is only known once the domain runs); None without one."""
        return self._dom_call("vnc_address", instance, lambda dom: vnc_address_of(dom.XMLDesc(0)))

    def attach_volume(self, instance, connection: dict, serial: str, device: str | None = None) -> str:
        """Attach a volume as the next free virtio disk; returns its target (vdX)."""
        return self._dom_call("attachDevice", instance,
                              lambda dom: volume_attach.attach(dom, libvirt, connection, serial, device))

    def detach_volume(self, instance, connection: dict, timeout: float = 30.0) -> bool:
        """Detach the disk of `connection`; False if the domain has no such disk."""
        return self._dom_call("detachDevice", instance,
                              lambda dom: volume_attach.detach(dom, libvirt, connection["path"], timeout))

    # -- live migration -------------------------------------------------------------
    def live_migrate(self, instance, dest_uri: str, prefixes: dict, dest_host: str, migrate_uri: str | None = None,
                     block: bool = True, watch=None) -> None:
        """Move the running domain to the libvirtd at `dest_uri` while it runs (libvirt's
        managed live migration, this process driving both daemons): its XML retargeted
        (`prefixes`: this host's instances folder and image cache -> the target's; the owner
        in <metadata> -> `dest_host`), defined there and undefined here once it runs there.
        `block`: the disk is not shared; QEMU copies the qcow2 overlay (drive-mirror) into the
        file the target prepared on the same backing (VIR_MIGRATE_NON_SHARED_INC).
        `migrate_uri`: where the target's QEMU listens (tcp://address), None: libvirt's choice.
        `watch(stats)` is called about twice a second with the job's statistics (memory_*,
        disk_* bytes) and may answer "abort" (the job is cancelled: MigrationAborted) or
        "force_complete" (the guest is paused so that the copy converges; it runs again on the
        target). On any failure the guest stays here, running as before.
        libvirt's test driver has no migration: a simulated host moves the domain definition
        (define + start on the target, destroy + undefine here), `watch` asked once first."""
        ref = _ref_of(instance)
        if self.is_simulated:
            return self._simulated_live_migrate(ref, dest_uri, prefixes, dest_host, watch)
        flags = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)
        if block:
            flags |= libvirt.VIR_MIGRATE_NON_SHARED_INC
        dom = self._call("lookup", lambda conn: _lookup(conn, ref), ref=ref)
        xml = self._call("XMLDesc", lambda conn: dom.XMLDesc(
            libvirt.VIR_DOMAIN_XML_MIGRATABLE | libvirt.VIR_DOMAIN_XML_SECURE), ref=ref)
        params = {libvirt.VIR_MIGRATE_PARAM_DEST_XML: retarget(xml, prefixes, dest_host)}
        if migrate_uri:
            params[libvirt.VIR_MIGRATE_PARAM_URI] = migrate_uri
        dconn = _open(dest_uri)
        stop, asked = threading.Event(), set()

        def monitor():
            while not stop.wait(0.5):
                try:
                    stats = dom.jobStats()
                except libvirt.libvirtError:
                    continue
                wanted = watch(stats) if watch is not None else None
                try:
                    if wanted == "abort" and "abort" not in asked:
                        asked.add("abort")
                        dom.abortJob()
                    elif wanted == "force_complete" and "force_complete" not in asked:
                        asked.add("force_complete")
                        dom.suspend()
                except libvirt.libvirtError as exc:
                    log.warning("live migration of %s: %s failed: %s", ref, wanted, exc)

        thread = threading.Thread(target=monitor, name=f"live-migration-{ref}", daemon=True)
        thread.start()
        try:
            moved = dom.migrate3(dconn, params, flags)
            if "force_complete" in asked:
                moved.resume()
        except libvirt.libvirtError as exc:
            if "force_complete" in asked:
                try:
                    dom.resume()
                except libvirt.libvirtError:
                    log.warning("live migration of %s failed and the paused guest did not resume", ref)
            if "abort" in asked and _err_code(exc) == libvirt.VIR_ERR_OPERATION_ABORTED:
                raise MigrationAborted(f"the live migration of {ref} was aborted") from exc
            raise _map_error("migrate", ref, exc) from exc
        finally:
            stop.set()
            thread.join(5)
            try:
                dconn.close()
            except libvirt.libvirtError:
                pass

    def _simulated_live_migrate(self, ref: str, dest_uri: str, prefixes: dict, dest_host: str, watch) -> None:
        if watch is not None and watch({"type": 0, "memory_total": 0, "memory_processed": 0,
                                        "memory_remaining": 0}) == "abort":
            raise MigrationAborted(f"the live migration of {ref} was aborted")
        xml = self._dom_call("XMLDesc", ref, lambda dom: dom.XMLDesc(0))
        dconn = get_connection(dest_uri)
        try:
            dconn.defineXML(retarget(xml, prefixes, dest_host)).create()
        except libvirt.libvirtError as exc:
            raise _map_error("migrate", ref, exc) from exc
        self.destroy(ref)

    def close(self) -> None:
        with _lock:
            conn = _connections.pop(self.uri, None)
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail any way
                pass


def _require(instance, state: int, allowed: tuple, action: str) -> None:
    if state not in allowed:
        names = " or ".join(ps.STATE_NAMES[s] for s in allowed)
        raise InstanceInvalidState(
            f"instance {_ref_of(instance)} is {ps.STATE_NAMES.get(state, state)}; only a {names} "
            f"instance can be {action}"
        )


def _remove_managed_save(dom) -> None:
    if dom.hasManagedSaveImage(0):
        dom.managedSaveRemove(0)


def _undefine(dom) -> None:
    """Undefine with the managed-save image, snapshot metadata and NVRAM; drivers that do
    not know some flags (the test driver) get fewer."""
    flag_sets = (
        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
        | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM,
        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE,
    )
    for flags in flag_sets:
        try:
            dom.undefineFlags(flags)
            return
        except libvirt.libvirtError as exc:
            if _err_code(exc) not in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_INVALID_ARG):
                raise
    if dom.hasManagedSaveImage(0):
        dom.managedSaveRemove(0)
    dom.undefine()


def vnc_address_of(domain_xml: str) -> tuple[str, int] | None:
    """(listen, port) of the first VNC <graphics> of a live domain XML; None when it has no
    VNC server or no port yet (-1: not running)."""
    graphics = ET.fromstring(domain_xml).find("./devices/graphics[@type='vnc']")
    if graphics is None:
        return None
    try:
        port = int(graphics.get("port", "-1"))
    except ValueError:
        return None
    if port <= 0:
        return None
    return graphics.get("listen") or "127.0.0.1", port
