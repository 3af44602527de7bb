"""The lvm driver with real lvm2 commands on a loop-backed volume group of its own
(cptvg-<random>, a sparse file, a loop device: all removed afterwards).

These machines have no device-mapper: lvm2 writes metadata but cannot activate a logical
volume. The metadata operations (create, extend, remove, capacity) run with
VOLUME_LVM_ACTIVATE=False; what needs an active volume (creating it active, wiping, snapshots,
attaching) is tried for real and skipped with lvm's own reason when the kernel refuses.
"""
import os
import shutil
import subprocess
import uuid

import pytest

from volumes.drivers.base import GIB, DeviceMapperMissing, VolumeDriverError
from volumes.drivers.lvm import LVMDriver

pytestmark = pytest.mark.slow

ENV = {**os.environ, "LVM_SUPPRESS_FD_WARNINGS": "1"}


def sh(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60, env=ENV)


@pytest.fixture
def volume_group(tmp_path):
    missing = [tool for tool in ("losetup", "pvcreate", "vgcreate", "lvcreate") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing lvm2/util-linux tools: {', '.join(missing)}")
    backing = tmp_path / "pv.img"
    with open(backing, "wb") as f:
        f.truncate(6 * GIB + 64 * 1024 ** 2)  # 6 GiB of extents plus the metadata area
    attach = sh("losetup", "-f", "--show", str(backing), check=False)
    if attach.returncode != 0:
        pytest.skip(f"no loop device: {attach.stderr.strip()}")
    loop = attach.stdout.strip()
    name = f"cptvg-{uuid.uuid4().hex[:8]}"
    try:
        sh("pvcreate", "-q", loop)
        sh("vgcreate", "-q", name, loop)
        yield name
    finally:
        sh("vgremove", "-f", "--driverloaded", "n", name, check=False)
        sh("pvremove", "-q", loop, check=False)
        sh("losetup", "-d", loop, check=False)


def test_metadata_operations_with_real_lvm2(volume_group):
    driver = LVMDriver(volume_group, activate=False, clear="zero")
    stats = driver.stats()
    assert (stats.total_gb, stats.free_gb) == (6, 6) and stats.details == {"volume_group": volume_group}

    driver.create("volume-0000000a", 1)
    driver.create("volume-0000000a", 1)  # idempotent: a re-delivered task
    driver.create("volume-0000000b", 2)
    assert driver.lv_sizes() == {"volume-0000000a": GIB, "volume-0000000b": 2 * GIB}
    assert driver.exists("volume-0000000a") and not driver.exists("volume-0000000c")
    lvs = sh("lvs", "--noheadings", "-o", "lv_name,lv_size", "--units", "g", volume_group).stdout
    assert "volume-0000000a" in lvs and "volume-0000000b" in lvs
    assert driver.stats().free_gb == 3

    driver.extend("volume-0000000a", 3)
    driver.extend("volume-0000000a", 2)  # never shrinks
    assert driver.lv_sizes()["volume-0000000a"] == 3 * GIB
    assert driver.stats().free_gb == 1
    with pytest.raises(VolumeDriverError):
        driver.create("volume-0000000c", 2)  # more than the group has left

    driver.delete("volume-0000000a")
    driver.delete("volume-0000000a")  # already gone
    assert list(driver.lv_sizes()) == ["volume-0000000b"]
    driver.delete("volume-0000000b")
    assert driver.lv_sizes() == {} and driver.stats().free_gb == 6


def test_names_reach_no_command_unchecked(volume_group):
    driver = LVMDriver(volume_group, activate=False)
    for bad in ("../x", "volume-1; rm", "-n", "volume-0000000G"):
        with pytest.raises(VolumeDriverError):
            driver.create(bad, 1)
    with pytest.raises(VolumeDriverError):
        LVMDriver("-ff")
    with pytest.raises(VolumeDriverError):
        driver.create("volume-00000001", 0)


def test_what_needs_device_mapper(volume_group):
    """Active volumes, wipes, snapshots and attaching need device-mapper: try them for real."""
    metadata_only = LVMDriver(volume_group, activate=False)
    metadata_only.create("volume-00000001", 1)
    with pytest.raises(DeviceMapperMissing):
        metadata_only.connection("volume-00000001")  # nothing to hand to libvirt
    try:
        metadata_only.create_snapshot("snap-00000001", "volume-00000001", 1)
    except DeviceMapperMissing as exc:
        snapshot_reason = str(exc)
    else:
        snapshot_reason = None
    metadata_only.delete("volume-00000001")

    driver = LVMDriver(volume_group, activate=True, clear="zero", clear_size_mb=1)
    try:
        driver.create("volume-00000002", 1)
    except DeviceMapperMissing as exc:
        pytest.skip(f"activating a logical volume needs device-mapper, which this kernel lacks: {exc}"
                    f"{f'; snapshots: {snapshot_reason}' if snapshot_reason else ''}")
    # a kernel with device-mapper: the whole path
    assert driver.connection("volume-00000002").path == f"/dev/{volume_group}/volume-00000002"
    with open(f"/dev/{volume_group}/volume-00000002", "r+b") as dev:
        dev.write(b"secret")
    driver.create_snapshot("snap-00000002", "volume-00000002", 1)
    driver.create_from_snapshot("volume-00000003", 1, "snap-00000002")
    with open(f"/dev/{volume_group}/volume-00000003", "rb") as dev:
        assert dev.read(6) == b"secret"
    for name in ("volume-00000003", "snap-00000002", "volume-00000002"):
        driver.delete(name)
    assert driver.lv_sizes() == {}
