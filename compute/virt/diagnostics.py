"""Server diagnostics from a libvirt domain, in Nova's libvirt format before microversion
2.48 (flat keys): cpuN_time, memory and memory-<stat>, <disk>_read/_write/_read_req/
_write_req/_errors, <interface>_rx/_rx_packets/_rx_errors/_rx_drop/_tx/... ."""
import xml.etree.ElementTree as ET

DISK_STATS = ("read_req", "read", "write_req", "write", "errors")
INTERFACE_STATS = ("rx", "rx_packets", "rx_errors", "rx_drop", "tx", "tx_packets", "tx_errors", "tx_drop")


def _devices(domain_xml: str) -> tuple[list[str], list[str]]:
    """(disk target devices, interface target devices) of the domain."""
    root = ET.fromstring(domain_xml)
    disks = [t.get("dev", "") for t in root.findall("./devices/disk/target") if t.get("dev")]
    interfaces = [t.get("dev", "") for t in root.findall("./devices/interface/target") if t.get("dev")]
    return disks, interfaces


def domain_diagnostics(dom) -> dict:
    """What libvirt tells about a running domain; a part it cannot give is left out."""
    import libvirt  # only on a host that drives libvirt

    result: dict = {}
    try:
        for number, _state, cpu_time, _cpu in dom.vcpus()[0]:
            result[f"cpu{number}_time"] = int(cpu_time)
    except libvirt.libvirtError:
        pass  # a stopped domain has no vcpu info
    result["memory"] = int(dom.maxMemory())
    try:
        for key, value in dom.memoryStats().items():
            result[f"memory-{key}"] = int(value)
    except libvirt.libvirtError:
        pass
    disks, interfaces = _devices(dom.XMLDesc(0))
    for dev in disks:
        try:
            stats = dom.blockStats(dev)
        except libvirt.libvirtError:
            continue
        for name, value in zip(DISK_STATS, stats):
            result[f"{dev}_{name}"] = int(value)
    for dev in interfaces:
        try:
            stats = dom.interfaceStats(dev)
        except libvirt.libvirtError:
            continue
        for name, value in zip(INTERFACE_STATS, stats):
            result[f"{dev}_{name}"] = int(value)
    return result
