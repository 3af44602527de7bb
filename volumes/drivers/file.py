"""Volumes as raw or qcow2 files under VOLUMES_PATH (STATE_PATH/volumes), for hosts without
device-mapper. A snapshot is a full copy made with qemu-img while the volume is not written
to; a volume from a snapshot is a copy grown to its size. Capacity is the filesystem's
(or VOLUME_FILE_CAPACITY_GB when set)."""
import os
from pathlib import Path

from .base import (
    GIB,
    Connection,
    Stats,
    VolumeDriver,
    VolumeDriverError,
    check_name,
    check_size,
    run,
    wipe,
)

FORMATS = ("raw", "qcow2")


class FileDriver(VolumeDriver):
    name = "file"

    def __init__(self, path, fmt: str = "raw", clear: str = "zero", clear_size_mb: int = 0,
                 capacity_gb: int = 0):
        if fmt not in FORMATS:
            raise VolumeDriverError(f"unknown volume file format {fmt!r} ({' or '.join(FORMATS)})")
        self.root = Path(path)
        self.format = fmt
        self.clear = clear
        self.clear_size_mb = clear_size_mb
        self.capacity_gb = capacity_gb

    def path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}.{self.format}"

    def _ensure_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)  # QEMU (an unprivileged user on most hosts) must traverse it

    def stats(self) -> Stats:
        self._ensure_root()
        fs = os.statvfs(self.root)
        fs_total, fs_free = fs.f_blocks * fs.f_frsize // GIB, fs.f_bavail * fs.f_frsize // GIB
        total = self.capacity_gb or fs_total
        return Stats(total_gb=total, free_gb=min(total, fs_free),
                     details={"path": str(self.root), "format": self.format})

    def _create_file(self, path: Path, size_gb: int) -> None:
        tmp = path.with_name(path.name + ".part")
        run(["qemu-img", "create", "-q", "-f", self.format, tmp, f"{size_gb}G"], f"creating {path.name}")
        os.replace(tmp, path)

    def create(self, name: str, size_gb: int) -> None:
        check_size(size_gb)
        path = self.path(name)
        if path.exists():
            return
        self._ensure_root()
        self._create_file(path, size_gb)

    def create_from_snapshot(self, name: str, size_gb: int, snapshot_name: str) -> None:
        check_size(size_gb)
        path, source = self.path(name), self.path(snapshot_name)
        if path.exists():
            return
        if not source.exists():
            raise VolumeDriverError(f"snapshot {snapshot_name} has no file {source}")
        tmp = path.with_name(path.name + ".part")
        run(["qemu-img", "convert", "-f", self.format, "-O", self.format, source, tmp],
            f"copying {snapshot_name} to {name}")
        run(["qemu-img", "resize", "-q", "-f", self.format, tmp, f"{size_gb}G"], f"growing {name}")
        os.replace(tmp, path)

    def create_from_image(self, name: str, size_gb: int, image_path: str, image_format: str) -> None:
        check_size(size_gb)
        path = self.path(name)
        if path.exists():
            return
        self._ensure_root()
        tmp = path.with_name(path.name + ".part")
        run(["qemu-img", "convert", "-f", image_format, "-O", self.format, image_path, tmp],
            f"writing an image into {name}")
        run(["qemu-img", "resize", "-q", "-f", self.format, tmp, f"{size_gb}G"], f"growing {name}")
        os.replace(tmp, path)

    def _remove(self, path: Path) -> None:
        if not path.exists():
            return
        wipe(str(path), path.stat().st_size, self.clear, self.clear_size_mb)
        path.unlink(missing_ok=True)

    def delete(self, name: str) -> None:
        self._remove(self.path(name))

    def extend(self, name: str, new_size_gb: int) -> None:
        check_size(new_size_gb)
        path = self.path(name)
        if not path.exists():
            raise VolumeDriverError(f"volume {name} has no file {path}")
        current = self._virtual_size(path)
        if current >= new_size_gb * GIB:
            return
        run(["qemu-img", "resize", "-q", "-f", self.format, path, f"{new_size_gb}G"], f"extending {name}")

    def _virtual_size(self, path: Path) -> int:
        if self.format == "raw":
            return path.stat().st_size
        import json

        info = json.loads(run(["qemu-img", "info", "--output=json", "-f", self.format, path], f"inspecting {path}"))
        return int(info["virtual-size"])

    def create_snapshot(self, snapshot_name: str, volume_name: str, size_gb: int) -> None:
        path, source = self.path(snapshot_name), self.path(volume_name)
        if path.exists():
            return
        if not source.exists():
            raise VolumeDriverError(f"volume {volume_name} has no file {source}")
        tmp = path.with_name(path.name + ".part")
        # -U: an in-use volume (snapshot with force) is locked by its QEMU; the copy is crash-consistent
        run(["qemu-img", "convert", "-U", "-f", self.format, "-O", self.format, source, tmp],
            f"snapshotting {volume_name}")
        os.replace(tmp, path)

    def delete_snapshot(self, snapshot_name: str) -> None:
        self._remove(self.path(snapshot_name))

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def connection(self, name: str) -> Connection:
        path = self.path(name)
        if not path.exists():
            raise VolumeDriverError(f"volume {name} has no file {path}")
        return Connection(kind="file", path=str(path), format=self.format)
