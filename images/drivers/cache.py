"""Per-host image cache: IMAGE_CACHE_PATH/<sha1 of image id> (Nova's `_base`).

`ensure_cached(image)` copies the image data from the store in chunks into a temp file,
verifies size, md5 and sha256 against the registry, and renames it into place. One fetch
per image at a time: an fcntl lock file per image serialises threads and processes, and a
waiter that gets the lock after another finished finds the base already there.
`create_overlay()` makes the per-instance qcow2 on top of a base. `cleanup()` removes
bases nothing on this host uses (compute.services.image_cache runs it periodically).
"""
import fcntl
import hashlib
import logging
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from images.drivers import qemu_img, store

log = logging.getLogger(__name__)
GiB = 1024**3


class CacheError(Exception):
    pass


def cache_root() -> Path:
    root = Path(settings.IMAGE_CACHE_PATH)
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_name(image_id) -> str:
    return hashlib.sha1(str(image_id).encode()).hexdigest()


def cached_path(image_id) -> Path:
    return cache_root() / cache_name(image_id)


def _image_lock(image_id):
    return open_lock(cache_root() / ".locks" / f"{cache_name(image_id)}.lock")


def backing_format(image) -> str:
    """Format qemu should read the base in (aki/ari/ami bases are plain files: raw)."""
    return "qcow2" if image.disk_format == "qcow2" else "raw"


def ensure_cached(image) -> Path:
    """Path of the verified base of `image` on this host, fetching it if needed."""
    if image.status != "active" or not image.checksum or not image.os_hash_value:
        raise CacheError(f"image {image.id} is not active (status {image.status}); nothing to cache")
    dest = cached_path(image.id)
    if dest.is_file() and dest.stat().st_size == image.size:
        _touch(dest)
        return dest
    with _image_lock(image.id):
        if dest.is_file() and dest.stat().st_size == image.size:
            return dest  # another thread or process fetched it while we waited
        _fetch(image, dest)
    return dest


def _touch(path: Path) -> None:
    """A base just used is young again: cleanup() leaves young bases alone."""
    try:
        os.utime(path)
    except OSError:
        pass


def _fetch(image, dest: Path) -> None:
    try:
        chunks = store.read(image.id)
    except store.StoreError as exc:
        raise CacheError(str(exc)) from None
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            size, md5, sha256 = store.copy_chunks(chunks, out)
            out.flush()
            os.fsync(out.fileno())
        if size != image.size or md5 != image.checksum or sha256 != image.os_hash_value:
            raise CacheError(
                f"image {image.id}: data in the store does not match the registry "
                f"(size {size} vs {image.size}, md5 {md5} vs {image.checksum}); refusing to cache it"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
        log.info("cached image %s as %s (%d bytes)", image.id, dest, size)
    finally:
        Path(tmp).unlink(missing_ok=True)


def create_overlay(base_path, overlay_path, size_gb: int | None = None, backing_format: str = "raw") -> Path:
    """A qcow2 overlay on `base_path`; grown to size_gb when that is bigger than the base."""
    base_path, overlay_path = Path(base_path), Path(overlay_path)
    overlay_path.parent.mkdir(parents=True, exist_ok=True)
    size_bytes = None
    if size_gb:
        virtual = qemu_img.info(base_path, fmt=backing_format).get("virtual-size") or 0
        if size_gb * GiB > virtual:
            size_bytes = size_gb * GiB
    qemu_img.create_overlay(base_path, overlay_path, backing_format, size_bytes)
    return overlay_path


def in_use_bases() -> set[Path]:
    """Bases that an instance disk on this host is built on (never to be removed)."""
    used: set[Path] = set()
    instances = Path(settings.INSTANCES_PATH)
    if not instances.is_dir():
        return used
    for disk in instances.glob("*/disk*"):
        try:
            backing = qemu_img.info(disk, fmt="qcow2").get("backing-filename")
        except (qemu_img.QemuImgError, ValueError):
            continue
        if backing:
            used.add(Path(backing))
    return used


def cleanup(keep: set[str], min_age: float, now: float | None = None) -> list[Path]:
    """Remove cached bases of this host that nothing uses. A base stays when its name is in
    `keep` (sha1 names of images the DB places on this host), when an instance disk here
    is built on it, or when it is younger than `min_age` seconds (it may be about to be
    used). Each removal holds the image's fetch lock, so it never races a fetch."""
    import time

    now = time.time() if now is None else now
    root = cache_root()
    in_use = {path.name for path in in_use_bases() if path.parent == root}
    removed = []
    for path in sorted(root.iterdir()):
        name = path.name
        if name.startswith(".") or not path.is_file() or len(name) != 40 or name in keep or name in in_use:
            continue
        lock_path = root / ".locks" / f"{name}.lock"
        with open_lock(lock_path):
            try:
                if now - path.stat().st_mtime < min_age:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue
        removed.append(path)
        log.info("image cache: removed unused base %s", path)
    return removed


@contextmanager
def open_lock(lock_path: Path):
    lock_path.parent.mkdir(exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
