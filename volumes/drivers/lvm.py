"""Volumes as logical volumes of one volume group (VOLUME_GROUP, default `nova-volumes` as in
the seeds), with real lvm2 commands: lvcreate, lvextend, lvremove, lvs, vgs, snapshots.

Deleting wipes the volume first (VOLUME_CLEAR=zero, the first VOLUME_CLEAR_SIZE_MB or all of
it, as the seeds' `dd if=/dev/zero`), because the extents go to the next volume created.

VOLUME_LVM_ACTIVATE=False runs every command with `--driverloaded n` and creates volumes
inactive and unzeroed (`-an -Zn`): on a kernel without device-mapper (these machines) lvm2
still writes metadata (create, extend, remove, capacity), but nothing can be attached, wiped,
snapshotted or copied; those raise DeviceMapperMissing with lvm's own words.
"""
import logging
import re

from .base import (
    GIB,
    Connection,
    DeviceMapperMissing,
    Stats,
    VolumeDriver,
    VolumeDriverError,
    check_name,
    check_size,
    run,
    wipe,
)

log = logging.getLogger(__name__)

VG_RE = re.compile(r"^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$")
LVM_ENV = {"LVM_SUPPRESS_FD_WARNINGS": "1"}
DM_MARKERS = ("/dev/mapper/control", "device-mapper kernel driver", "device-mapper target")


def _lvm(argv: list, what: str) -> str:
    try:
        return run(argv, what, env=LVM_ENV)
    except VolumeDriverError as exc:
        if any(marker in str(exc) for marker in DM_MARKERS):
            raise DeviceMapperMissing(str(exc)) from None
        raise


class LVMDriver(VolumeDriver):
    name = "lvm"

    def __init__(self, volume_group: str = "nova-volumes", activate: bool = True, clear: str = "zero",
                 clear_size_mb: int = 0):
        if not isinstance(volume_group, str) or not VG_RE.match(volume_group) or volume_group in (".", ".."):
            raise VolumeDriverError(f"invalid volume group name {volume_group!r}")
        self.vg = volume_group
        self.activate = activate
        self.clear = clear
        self.clear_size_mb = clear_size_mb

    def _opts(self) -> list:
        return [] if self.activate else ["--driverloaded", "n"]

    def _lv(self, name: str) -> str:
        return f"{self.vg}/{check_name(name)}"

    def device(self, name: str) -> str:
        return f"/dev/{self.vg}/{check_name(name)}"

    def _need_activation(self, what: str) -> None:
        if not self.activate:
            raise DeviceMapperMissing(f"{what} needs an active logical volume; VOLUME_LVM_ACTIVATE is off "
                                      "(no device-mapper on this host)")

    def stats(self) -> Stats:
        out = _lvm(["vgs", "--noheadings", "--nosuffix", "--units", "b", "-o", "vg_size,vg_free", self.vg],
                   f"reading volume group {self.vg}")
        size, free = (int(float(x)) for x in out.split())
        return Stats(total_gb=size // GIB, free_gb=free // GIB, details={"volume_group": self.vg})

    def lv_sizes(self) -> dict:
        """{lv name: size in bytes} of the group."""
        out = _lvm(["lvs", "--noheadings", "--nosuffix", "--units", "b", "-o", "lv_name,lv_size", self.vg],
                   f"listing {self.vg}")
        return {name: int(float(size)) for name, size in (line.split() for line in out.splitlines() if line.strip())}

    def exists(self, name: str) -> bool:
        return check_name(name) in self.lv_sizes()

    def create(self, name: str, size_gb: int) -> None:
        check_size(size_gb)
        if self.exists(name):
            return
        argv = ["lvcreate", *self._opts(), "--yes", "-L", f"{size_gb}G", "-n", check_name(name)]
        if not self.activate:
            argv += ["-an", "-Zn"]
        _lvm([*argv, self.vg], f"creating {name}")

    def create_from_snapshot(self, name: str, size_gb: int, snapshot_name: str) -> None:
        self._need_activation("a volume from a snapshot")
        if self.exists(name):
            return
        self.create(name, size_gb)
        run(["dd", f"if={self.device(snapshot_name)}", f"of={self.device(name)}", "bs=1M", "conv=fsync"],
            f"copying {snapshot_name} to {name}")

    def create_from_image(self, name: str, size_gb: int, image_path: str, image_format: str) -> None:
        self._need_activation("a volume from an image")
        if self.exists(name):
            return
        self.create(name, size_gb)
        # -n: the logical volume exists; qemu-img writes the image's disk into it
        run(["qemu-img", "convert", "-n", "-f", image_format, "-O", "raw", image_path, self.device(name)],
            f"writing an image into {name}")

    def delete(self, name: str) -> None:
        sizes = self.lv_sizes()
        if check_name(name) not in sizes:
            return
        if self.activate:
            wipe(self.device(name), sizes[name], self.clear, self.clear_size_mb)
        elif self.clear != "none":
            log.info("%s was never active (no device-mapper): nothing to wipe", name)
        _lvm(["lvremove", *self._opts(), "-f", self._lv(name)], f"removing {name}")

    def extend(self, name: str, new_size_gb: int) -> None:
        check_size(new_size_gb)
        sizes = self.lv_sizes()
        if check_name(name) not in sizes:
            raise VolumeDriverError(f"logical volume {self._lv(name)} does not exist")
        if sizes[name] >= new_size_gb * GIB:
            return
        _lvm(["lvextend", *self._opts(), "-L", f"{new_size_gb}G", self._lv(name)], f"extending {name}")

    def create_snapshot(self, snapshot_name: str, volume_name: str, size_gb: int) -> None:
        check_size(size_gb)
        if self.exists(snapshot_name):
            return
        _lvm(["lvcreate", *self._opts(), "--yes", "-s", "-L", f"{size_gb}G", "-n", check_name(snapshot_name),
              self._lv(volume_name)], f"snapshotting {volume_name}")

    def delete_snapshot(self, snapshot_name: str) -> None:
        # a copy-on-write snapshot holds the origin's old blocks: wiped like a volume
        self.delete(snapshot_name)

    def connection(self, name: str) -> Connection:
        self._need_activation("attaching a volume")
        if not self.exists(name):
            raise VolumeDriverError(f"logical volume {self._lv(name)} does not exist")
        return Connection(kind="block", path=self.device(name), format="raw")
