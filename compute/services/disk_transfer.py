"""How an instance's files travel from one compute host to another (cold migration, resize
to another host): through the image store, which every agent shares already
(IMAGE_STORE_PATH, docs/operator-guide.md), so no agent needs a listening port or an ssh
trust with the others.

    stage(instance, source_dir)     on the source: the qcow2 overlay (never the base: the
                                    target fetches that from the store as for a boot) and the
                                    console log copied to IMAGE_STORE_PATH/transfers/<uuid>/
    staged_disk(instance) -> Path   on the target: the staged overlay, or DriverError
    receive(instance, dest, base)   the overlay copied in, re-pointed at this host's base
                                    (qemu-img rebase -u: the same verified bytes, another path)
    discard(instance)               the staged copy removed (after the target took it, and in
                                    every rollback); idempotent

Each copy is written to a .part file and renamed, so a half-written transfer is never taken
for a whole one; a step re-run after a crash starts the copy again.
"""
import logging
import shutil
import uuid as uuid_lib
from pathlib import Path

from images.drivers import qemu_img
from images.drivers import store as image_store

from ..models import Instance
from ..virt.driver import DriverError

log = logging.getLogger(__name__)

TRANSFERS = "transfers"
FILES = ("disk", "console.log")
BACKING_FORMATS = ("raw", "qcow2")


def transfer_dir(instance: Instance) -> Path:
    """IMAGE_STORE_PATH/transfers/<instance uuid> (the uuid checked: it names a folder)."""
    return image_store.store_root() / TRANSFERS / str(uuid_lib.UUID(str(instance.uuid)))


def _copy(src: Path, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".part")
    shutil.copyfile(src, tmp)
    tmp.replace(dest)


def stage(instance: Instance, source_dir: Path) -> Path:
    """The instance's overlay and console log from `source_dir` into the transfer folder."""
    disk = source_dir / "disk"
    if not disk.is_file():
        raise DriverError(f"instance {instance.uuid} has no disk in {source_dir} to migrate")
    target = transfer_dir(instance)
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if (source_dir / name).is_file():
            _copy(source_dir / name, target / name)
    log.info("instance %s: disk staged for its new host in %s", instance.uuid, target)
    return target


def staged_disk(instance: Instance) -> Path:
    disk = transfer_dir(instance) / "disk"
    if not disk.is_file():
        raise DriverError(f"the disk of instance {instance.uuid} was not staged in {disk.parent} by its source host")
    return disk


def receive(instance: Instance, dest: Path, base: Path | str) -> None:
    """The staged overlay copied to `dest` (a .part file the caller renames into place) and
    re-pointed at this host's cached `base`; the console log next to it."""
    staged = staged_disk(instance)
    shutil.copyfile(staged, dest)
    backing_format = qemu_img.info(dest, fmt="qcow2").get("backing-filename-format") or "raw"
    if backing_format not in BACKING_FORMATS:
        raise DriverError(f"the staged disk of instance {instance.uuid} has an unexpected backing format")
    qemu_img.rebase_unsafe(dest, base, backing_format)
    console = staged.with_name("console.log")
    if console.is_file():
        _copy(console, dest.parent / "console.log")


def discard(instance: Instance) -> bool:
    target = transfer_dir(instance)
    if not target.is_dir():
        return False
    shutil.rmtree(target, ignore_errors=True)
    return True
