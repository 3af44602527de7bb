"""Domain XML for an InstanceSpec, built with ElementTree (the library escapes every value).

No user value is ever concatenated into XML text: names, paths, MACs and the display name
are element text or attribute values set through ElementTree. The display name only goes
into <description> and <metadata> (the hypervisor never interprets either).

The same XML works for qemu:///system (type 'qemu' under TCG, 'kvm' in production) and for
libvirt's test:///default driver, which accepts it as is.
"""
import xml.etree.ElementTree as ET

from . import volume_attach
from .spec import InstanceSpec

METADATA_NS = "http://cloudproj.local/xmlns/instance/1.0"
METADATA_PREFIX = "cloudproj"


def _sub(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, {k.rstrip("_"): str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = str(text)
    return element


def build_element(spec: InstanceSpec) -> ET.Element:
    spec.validate()
    domain = ET.Element("domain", {"type": spec.virt_type})
    _sub(domain, "name", spec.name)
    _sub(domain, "uuid", spec.uuid)
    _sub(domain, "description", spec.display_name)
    metadata = _sub(domain, "metadata")
    # libvirt keeps one element per namespace in <metadata>; ours carries the display name
    instance = ET.SubElement(metadata, f"{{{METADATA_NS}}}instance")
    _sub(instance, f"{{{METADATA_NS}}}display-name", spec.display_name)
    if spec.host:
        _sub(instance, f"{{{METADATA_NS}}}host", spec.host)
    _sub(domain, "memory", spec.memory_kib, unit="KiB")
    _sub(domain, "currentMemory", spec.memory_kib, unit="KiB")
    _sub(domain, "vcpu", spec.vcpus, placement="static")

    os_el = _sub(domain, "os")
    _sub(os_el, "type", "hvm")
    if spec.kernel_path:
        _sub(os_el, "kernel", spec.kernel_path)
        if spec.initrd_path:
            _sub(os_el, "initrd", spec.initrd_path)
        if spec.cmdline:
            _sub(os_el, "cmdline", spec.cmdline)
    else:
        _sub(os_el, "boot", dev="hd")

    features = _sub(domain, "features")
    _sub(features, "acpi")
    _sub(features, "apic")
    _sub(domain, "clock", offset="utc")
    _sub(domain, "on_poweroff", "destroy")
    _sub(domain, "on_reboot", "restart")
    _sub(domain, "on_crash", "destroy")

    devices = _sub(domain, "devices")
    if spec.root_volume:
        root = spec.root_volume
        devices.append(ET.fromstring(volume_attach.root_disk_xml(root, root.get("serial", ""))))
    else:
        disk = _sub(devices, "disk", type="file", device="disk")
        # cache=none needs O_DIRECT, which some filesystems (tmpfs, overlayfs) refuse;
        # writeback is safe for qcow2 overlays under TCG and KVM alike.
        _sub(disk, "driver", name="qemu", type=spec.disk_format, cache="writeback")
        _sub(disk, "source", file=spec.disk_path)
        _sub(disk, "target", dev="vda", bus="virtio")
    for volume in spec.volumes:  # kept across hard reboots and rebuilds, which redefine the domain
        devices.append(ET.fromstring(volume_attach.disk_xml(volume, volume.get("target"), volume.get("serial", ""))))

    for nic in spec.nics:
        interface = _sub(devices, "interface", type="bridge")
        _sub(interface, "source", bridge=nic.bridge)
        _sub(interface, "mac", address=nic.mac)
        _sub(interface, "model", type="virtio")

    # The serial port writes into the console log (truncated at each start of the QEMU
    # process: a soft reboot keeps it, a hard reboot / stop+start begins a new log).
    serial = _sub(devices, "serial", type="file")
    _sub(serial, "source", path=spec.console_log_path, append="off")
    _sub(serial, "target", port="0")
    console = _sub(devices, "console", type="file")
    _sub(console, "source", path=spec.console_log_path, append="off")
    _sub(console, "target", type="serial", port="0")

    if spec.vnc:
        graphics = _sub(devices, "graphics", type="vnc", autoport="yes", listen=spec.vnc_listen)
        _sub(graphics, "listen", type="address", address=spec.vnc_listen)
    _sub(devices, "memballoon", model="virtio")
    return domain


def build_domain_xml(spec: InstanceSpec) -> str:
    """The domain XML of `spec` as a string."""
    ET.register_namespace(METADATA_PREFIX, METADATA_NS)
    return ET.tostring(build_element(spec), encoding="unicode")


def parse_uuid(xml: str) -> str | None:
    """The <uuid> of a domain XML (e.g. from XMLDesc)."""
    return ET.fromstring(xml).findtext("uuid")


def parse_display_name(xml: str) -> str | None:
    """The display name stored in <metadata> (None when absent)."""
    root = ET.fromstring(xml)
    return root.findtext(f"metadata/{{{METADATA_NS}}}instance/{{{METADATA_NS}}}display-name")


def parse_host(xml: str) -> str | None:
    """The owning host stored in <metadata> (None for a domain without one: not ours)."""
    root = ET.fromstring(xml)
    return root.findtext(f"metadata/{{{METADATA_NS}}}instance/{{{METADATA_NS}}}host")


def retarget(xml: str, prefixes: dict[str, str], host: str | None) -> str:
    """A running domain's XML for another host (live migration): every file path under a
    key of `prefixes` (the source's instances folder, its image cache) moved under the
    value (the target's), and the owning host in <metadata> set to `host`. Only whole path
    components are replaced; nothing else changes (devices and their addresses stay as the
    running guest has them)."""
    ET.register_namespace(METADATA_PREFIX, METADATA_NS)
    root = ET.fromstring(xml)

    def moved(path: str) -> str:
        for old, new in prefixes.items():
            old = old.rstrip("/")
            if path == old or path.startswith(old + "/"):
                return new.rstrip("/") + path[len(old):]
        return path

    for element in root.iter("source"):
        for attr in ("file", "path"):
            value = element.get(attr)
            if value:
                element.set(attr, moved(value))
    for tag in ("os/kernel", "os/initrd", "os/loader"):
        found = root.find(tag)
        if found is not None and found.text:
            found.text = moved(found.text)
    owner = root.find(f"metadata/{{{METADATA_NS}}}instance/{{{METADATA_NS}}}host")
    if owner is not None and host:
        owner.text = host
    return ET.tostring(root, encoding="unicode")
