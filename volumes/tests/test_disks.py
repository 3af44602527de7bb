"""Pieces that need no host: the volume disk XML handed to libvirt, the choice of the next
virtio name, a domain spec carrying attached volumes, and the file driver (qcow2, wipe)."""
import xml.etree.ElementTree as ET

import pytest

from compute.virt import volume_attach
from compute.virt.domain_xml import build_domain_xml
from compute.virt.driver import DriverError, InvalidSpec
from compute.virt.spec import InstanceSpec
from volumes.drivers.base import VolumeDriverError, wipe
from volumes.drivers.file import FileDriver

FILE = {"kind": "file", "path": "/var/lib/cloud/volumes/volume-0000000a.raw", "format": "raw"}


def test_disk_xml():
    disk = ET.fromstring(volume_attach.disk_xml(FILE, "vdb", "0f8e9f6e-1234"))
    assert disk.get("type") == "file" and disk.find("source").get("file") == FILE["path"]
    assert disk.find("target").attrib == {"dev": "vdb", "bus": "virtio"}
    assert disk.find("driver").get("type") == "raw" and disk.find("serial").text == "0f8e9f6e-1234"
    block = ET.fromstring(volume_attach.disk_xml({"kind": "block", "path": "/dev/vg/volume-0000000a"}, "vdc", "s"))
    assert block.get("type") == "block" and block.find("source").get("dev") == "/dev/vg/volume-0000000a"
    bad = [
        ({**FILE, "path": "relative"}, "vdb", "s"), ({**FILE, "path": "/a/../etc/shadow"}, "vdb", "s"),
        ({**FILE, "path": "/x'/><evil/>"}, "vdb", "s"), ({**FILE, "kind": "network"}, "vdb", "s"),
        ({**FILE, "format": "vmdk"}, "vdb", "s"), (FILE, "vda", "s"), (FILE, "sdb", "s"), (FILE, "vdb", "a b"),
    ]
    for connection, target, serial in bad:
        with pytest.raises(InvalidSpec):
            volume_attach.disk_xml(connection, target, serial)


def test_next_device():
    assert volume_attach.next_device({"vda"}) == "vdb"
    assert volume_attach.next_device({"vda", "vdb", "vdd"}) == "vdc"
    assert volume_attach.next_device({"vda"}, "/dev/vdf") == "vdf"
    assert volume_attach.next_device({"vda", "vdf"}, "/dev/vdf") == "vdb"  # taken: the next free one
    assert volume_attach.next_device({"vda"}, "/dev/sda") == "vdb"
    with pytest.raises(DriverError):
        volume_attach.next_device(set(volume_attach.DEVICES) | {"vda"})


def test_domain_spec_with_volumes():
    spec = InstanceSpec(uuid="6f1ed002-ab5d-42b4-b0d1-4c0b4d6fd1c2", name="instance-00000001", memory_mb=64,
                        vcpus=1, disk_path="/i/disk", console_log_path="/i/console.log",
                        volumes=[{**FILE, "target": "vdc", "serial": "abc"}])
    domain = ET.fromstring(build_domain_xml(spec))
    targets = [disk.find("target").get("dev") for disk in domain.findall("./devices/disk")]
    assert targets == ["vda", "vdc"]
    assert volume_attach.disks(build_domain_xml(spec))["vdc"][0] == FILE["path"]


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_file_driver(tmp_path, fmt):
    driver = FileDriver(tmp_path / "volumes", fmt=fmt, clear="zero", clear_size_mb=1, capacity_gb=7)
    assert driver.stats().total_gb == 7
    driver.create("volume-00000001", 1)
    path = tmp_path / "volumes" / f"volume-00000001.{fmt}"
    assert driver.connection("volume-00000001").as_dict() == {"kind": "file", "path": str(path), "format": fmt}
    driver.extend("volume-00000001", 2)
    assert driver._virtual_size(path) == 2 * 1024 ** 3
    driver.create_snapshot("snap-00000001", "volume-00000001", 2)
    driver.create_from_snapshot("volume-00000002", 3, "snap-00000001")
    assert driver._virtual_size(tmp_path / "volumes" / f"volume-00000002.{fmt}") == 3 * 1024 ** 3
    for name in ("volume-00000002", "volume-00000001"):
        driver.delete(name)
        driver.delete(name)  # gone already: fine
    driver.delete_snapshot("snap-00000001")
    assert list((tmp_path / "volumes").iterdir()) == []
    with pytest.raises(VolumeDriverError):
        driver.extend("volume-00000001", 3)
    with pytest.raises(VolumeDriverError):
        driver.create("../volume-00000001", 1)


def test_wipe_overwrites_the_start(tmp_path):
    path = tmp_path / "disk"
    path.write_bytes(b"\xff" * (3 * 1024 ** 2))
    wipe(str(path), path.stat().st_size, "none", 0)
    assert path.read_bytes()[:4] == b"\xff" * 4
    wipe(str(path), path.stat().st_size, "zero", 1)
    data = path.read_bytes()
    assert data[:1024 ** 2] == b"\0" * 1024 ** 2 and data[1024 ** 2:1024 ** 2 + 4] == b"\xff" * 4
    wipe(str(path), path.stat().st_size, "zero", 0)
    assert path.read_bytes() == b"\0" * (3 * 1024 ** 2)
    with pytest.raises(VolumeDriverError):
        wipe(str(path), 1, "shred", 0)
