"""Volumes as virtio disks of a libvirt domain (called by LibvirtDriver.attach_volume and
detach_volume): attach on the next free /dev/vdX, live and in the persistent definition;
detach from both and wait until the guest has let go of the device.

`connection` is what the volume driver says: {"kind": "file"|"block", "path", "format"}, or
for a volume of another host {"kind": "iscsi", "path": "<iqn>/<lun>", "host", "port"}, which
QEMU opens itself (libiscsi); `"readonly": True` for a read-only attachment (<readonly/>).
"""
import logging
import re
import time
import xml.etree.ElementTree as ET

from .driver import DriverError, InvalidSpec

log = logging.getLogger(__name__)

RESEND_SECONDS = 5.0  # a live unplug the guest has not done yet is asked again this often
ROOT_DEVICE = "vda"
DEVICES = [f"vd{letter}" for letter in "bcdefghijklmnopqrstuvwxyz"]  # vda is the root disk
DEVICE_RE = re.compile(r"^(/dev/)?(vd[b-z])$")
PATH_RE = re.compile(r"^/[A-Za-z0-9._+/-]+$")
SERIAL_RE = re.compile(r"^[A-Za-z0-9-]{1,36}$")
FORMATS = ("raw", "qcow2")
ISCSI_RE = re.compile(r"^iqn\.[a-z0-9.:-]+/\d{1,3}$")
IP_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def _source(disk, connection: dict) -> None:
    kind, path = connection.get("kind"), connection.get("path")
    if kind == "iscsi":
        port = connection.get("port")
        if (not isinstance(path, str) or not ISCSI_RE.match(path) or not IP_RE.match(str(connection.get("host")))
                or isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
            raise InvalidSpec(f"invalid iSCSI volume connection {connection!r}")
        source = ET.SubElement(disk, "source", protocol="iscsi", name=path)
        ET.SubElement(source, "host", name=connection["host"], port=str(port))
        return
    if kind not in ("file", "block") or not isinstance(path, str) or not PATH_RE.match(path) or "/../" in path:
        raise InvalidSpec(f"invalid volume connection {connection!r}")
    ET.SubElement(disk, "source", {"file": path} if kind == "file" else {"dev": path})


def disk_xml(connection: dict, target: str, serial: str) -> str:
    if target not in DEVICES:
        raise InvalidSpec(f"invalid volume disk target {target!r}")
    return _disk_xml(connection, target, serial)


def root_disk_xml(connection: dict, serial: str) -> str:
    """The root disk (vda) of a server booted from a volume."""
    return _disk_xml(connection, ROOT_DEVICE, serial)


def _disk_xml(connection: dict, target: str, serial: str) -> str:
    fmt = connection.get("format", "raw")
    if fmt not in FORMATS or not SERIAL_RE.match(serial):
        raise InvalidSpec(f"invalid volume disk: format {fmt!r}, target {target!r}, serial {serial!r}")
    kind = connection.get("kind")
    disk = ET.Element("disk", type="network" if kind == "iscsi" else str(kind), device="disk")
    ET.SubElement(disk, "driver", name="qemu", type=fmt)
    _source(disk, connection)
    ET.SubElement(disk, "target", dev=target, bus="virtio")
    if connection.get("readonly") is True:  # a read-only attachment (os-update_readonly_flag)
        ET.SubElement(disk, "readonly")
    ET.SubElement(disk, "serial").text = serial
    return ET.tostring(disk, encoding="unicode")


def disks(domain_xml: str) -> dict:
    """{target dev: (source path, the <disk> element as XML)} of a domain description."""
    result = {}
    for disk in ET.fromstring(domain_xml).findall("./devices/disk"):
        target, source = disk.find("target"), disk.find("source")
        if target is None:
            continue
        path = None if source is None else (source.get("file") or source.get("dev") or source.get("name"))
        result[target.get("dev")] = (path, ET.tostring(disk, encoding="unicode"))
    return result


def next_device(used, requested: str | None = None) -> str:
    """The requested vdX when it is free, else the first free one after vda."""
    if requested:
        match = DEVICE_RE.match(requested)
        if match and match.group(2) not in used:
            return match.group(2)
    for dev in DEVICES:
        if dev not in used:
            return dev
    raise DriverError("no free virtio disk name left (vdb..vdz all in use)")


def _both(dom, libvirt) -> tuple[dict, dict, bool]:
    active = bool(dom.isActive())
    live = disks(dom.XMLDesc(0)) if active else {}
    config = disks(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) if dom.isPersistent() else {}
    return live, config, active


def attach(dom, libvirt, connection: dict, serial: str, requested: str | None = None) -> str:
    """Attach and return the target (vdX); a disk already there with this source is reused."""
    live, config, active = _both(dom, libvirt)
    for found in (live, config):
        for dev, (path, _xml) in found.items():
            if path == connection.get("path"):
                return dev
    target = next_device(set(live) | set(config), requested)
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG if dom.isPersistent() else 0
    if active:
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    dom.attachDeviceFlags(disk_xml(connection, target, serial), flags)
    return target


def detach(dom, libvirt, path: str, timeout: float, poll: float = 0.2, resend: float = RESEND_SECONDS) -> bool:
    """Detach the disk with this source; False if the domain has none. Raises DriverError if
    the guest still holds it after `timeout` seconds (it stays in the live domain then).

    The live unplug is asked again every `resend` seconds, as Nova retries it: a guest still
    booting loses the request (its kernel clears the pending ACPI hotplug event when it sets
    up ACPI; QEMU lets the request be repeated for that reason), so a detach right after the
    server went ACTIVE would otherwise wait for nothing."""
    live, config, _active = _both(dom, libvirt)
    live_dev = next((dev for dev, (p, _x) in live.items() if p == path), None)
    config_dev = next((dev for dev, (p, _x) in config.items() if p == path), None)
    if live_dev is None and config_dev is None:
        return False
    if config_dev is not None:
        dom.detachDeviceFlags(config[config_dev][1], libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    if live_dev is None:
        return True
    live_xml = live[live_dev][1]
    dom.detachDeviceFlags(live_xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    started = time.monotonic()
    deadline, next_request = started + timeout, started + resend
    while dom.isActive() and any(p == path for p, _x in disks(dom.XMLDesc(0)).values()):
        now = time.monotonic()
        if now >= deadline:
            raise DriverError(f"the guest did not release {live_dev} ({path}) within {timeout:g}s")
        if now >= next_request:
            next_request = now + resend
            try:
                dom.detachDeviceFlags(live_xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            except libvirt.libvirtError as exc:  # an unplug still pending, or the disk just went
                log.debug("repeated unplug of %s (%s): %s", live_dev, path, exc)
        time.sleep(poll)
    return True
