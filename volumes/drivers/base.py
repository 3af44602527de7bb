"""The volume driver contract and the command runner all drivers share.

A driver owns the storage of the volumes and snapshots of the host it runs on. Names are
the rows' `storage_name` (volume-%08x, snap-%08x) and are checked before they reach a
command line; sizes are GiB. Every operation is idempotent: creating what exists or removing
what is gone succeeds, so a re-delivered task converges.
"""
import logging
import re
import subprocess
from dataclasses import dataclass, field

from cloudproj.host.run import run as run_command

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^(volume|snap)-[0-9a-f]{8}$")
GIB = 1024 ** 3
MIB = 1024 ** 2


class VolumeDriverError(Exception):
    """A storage operation failed; the message says which command and why."""


class DeviceMapperMissing(VolumeDriverError):
    """The kernel has no device-mapper: LVM can write metadata but not activate volumes."""


@dataclass
class Stats:
    total_gb: int
    free_gb: int
    details: dict = field(default_factory=dict)


@dataclass
class Connection:
    """How a hypervisor reaches a volume: a file or a block device on its own host, or an
    iSCSI LUN exported by the volume's host."""

    kind: str  # "file" | "block" | "iscsi" (path: "<iqn>/<lun>" at host:port)
    path: str
    format: str = "raw"  # "raw" | "qcow2"
    host: str = ""
    port: int = 0

    def as_dict(self) -> dict:
        extra = {"host": self.host, "port": self.port} if self.kind == "iscsi" else {}
        return {"kind": self.kind, "path": self.path, "format": self.format, **extra}


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise VolumeDriverError(f"invalid storage name {name!r}")
    return name


def check_size(size_gb) -> int:
    if isinstance(size_gb, bool) or not isinstance(size_gb, int) or size_gb < 1:
        raise VolumeDriverError(f"invalid size {size_gb!r} GiB")
    return size_gb


def run(argv: list, what: str, timeout: float = 600, env: dict | None = None) -> str:
    """Run a command (argument list, never a shell: cloudproj.host.run); VolumeDriverError with
    its stderr on failure."""
    try:
        proc = run_command([str(arg) for arg in argv], check=False, timeout=timeout, env=env)
    except FileNotFoundError:
        raise VolumeDriverError(f"{what}: {argv[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise VolumeDriverError(f"{what}: {argv[0]} did not finish within {timeout:g}s") from None
    if proc.returncode != 0:
        raise VolumeDriverError(f"{what} failed ({proc.returncode}): {' '.join(proc.stderr.split())[:400]}")
    return proc.stdout


def wipe(path: str, size_bytes: int, clear: str, clear_size_mb: int) -> None:
    """Overwrite the start (clear_size_mb, 0 = all) of a device or file with zeros (Nova's
    volume wipe on delete: the next tenant must not read this one's data)."""
    if clear == "none":
        return
    if clear != "zero":
        raise VolumeDriverError(f"unknown VOLUME_CLEAR {clear!r} (zero or none)")
    count = -(-size_bytes // MIB)
    if clear_size_mb:
        count = min(count, clear_size_mb)
    if count <= 0:
        return
    run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={count}", "conv=notrunc,fsync"],
        f"wiping {path}")


class VolumeDriver:
    name = "base"

    def stats(self) -> Stats:
        raise NotImplementedError

    def create(self, name: str, size_gb: int) -> None:
        raise NotImplementedError

    def create_from_snapshot(self, name: str, size_gb: int, snapshot_name: str) -> None:
        raise NotImplementedError

    def create_from_image(self, name: str, size_gb: int, image_path: str, image_format: str) -> None:
        """A volume of size_gb holding the image at image_path (read as image_format)."""
        raise NotImplementedError

    def delete(self, name: str) -> None:
        raise NotImplementedError

    def extend(self, name: str, new_size_gb: int) -> None:
        raise NotImplementedError

    def create_snapshot(self, snapshot_name: str, volume_name: str, size_gb: int) -> None:
        raise NotImplementedError

    def delete_snapshot(self, snapshot_name: str) -> None:
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def connection(self, name: str) -> Connection:
        raise NotImplementedError
