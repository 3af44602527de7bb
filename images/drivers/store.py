"""Filesystem image store: IMAGE_STORE_PATH/<image id>.

Data is written from a stream in chunks (md5 + sha256 computed on the way, never the
whole file in memory) to a temp file that is renamed into place, so a reader never sees
a half-written image.
"""
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

CHUNK_SIZE = 1024 * 1024


@dataclass
class StoredData:
    path: Path
    size: int
    md5: str
    sha256: str


class StoreError(Exception):
    pass


def store_root() -> Path:
    root = Path(settings.IMAGE_STORE_PATH)
    root.mkdir(parents=True, exist_ok=True)
    return root


def location(image_id) -> Path:
    return store_root() / str(image_id)


def _chunks(source, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Chunks from a file-like object (read()) or an iterable of bytes."""
    if hasattr(source, "read"):
        while True:
            chunk = source.read(chunk_size)
            if not chunk:
                return
            yield chunk
    else:
        for chunk in source:
            if chunk:
                yield chunk


def write(image_id, source, max_size: int | None = None) -> StoredData:
    """Write `source` (file-like or iterable of bytes) as the data of image `image_id`."""
    dest = location(image_id)
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(prefix=f".{image_id}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in _chunks(source):
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise StoreError(f"image data exceeds the maximum size of {max_size} bytes")
                md5.update(chunk)
                sha256.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return StoredData(dest, size, md5.hexdigest(), sha256.hexdigest())


def read(image_id, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The image data as an iterator of chunks (raises StoreError if there is none)."""
    path = location(image_id)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise StoreError(f"no data in the store for image {image_id}") from None

    def iterate():
        with handle:
            while True:
                chunk = handle.read(chunk_size)
                if not chunk:
                    return
                yield chunk

    return iterate()


def exists(image_id) -> bool:
    return location(image_id).is_file()


def delete(image_id) -> bool:
    try:
        location(image_id).unlink()
        return True
    except FileNotFoundError:
        return False


def copy_chunks(chunks: Iterable[bytes], out) -> tuple[int, str, str]:
    """Write chunks to an open file, returning (size, md5, sha256)."""
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    for chunk in chunks:
        md5.update(chunk)
        sha256.update(chunk)
        out.write(chunk)
        size += len(chunk)
    return size, md5.hexdigest(), sha256.hexdigest()


def last_write(image_id) -> float | None:
    """When data of `image_id` was last written: its partial uploads, or its data file just
    renamed into place (being checked). None when there is none."""
    paths = [*store_root().glob(f".{image_id}.*.part"), location(image_id)]
    times = [p.stat().st_mtime for p in paths if p.is_file()]
    return max(times) if times else None


def delete_partial(image_id) -> None:
    for path in store_root().glob(f".{image_id}.*.part"):
        path.unlink(missing_ok=True)
