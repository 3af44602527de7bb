"""Locks of the host side.

    KeyedLocks()        one lock per key, alive only while somebody holds or waits for it
    instance_lock(key)  the agent's per-instance lock (a delete waits for a running spawn)
    file_lock(path)     an exclusive flock on a file, across threads and processes
"""
import fcntl
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path


class _Lock:
    """A threading.Lock that can be weakly referenced (the built-in lock cannot)."""

    __slots__ = ("__weakref__", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()


class KeyedLocks:
    """Per-key mutual exclusion whose memory is bounded by the keys in use: a key's lock is
    dropped when the last holder or waiter lets go of it (a WeakValueDictionary)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, _Lock] = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, key: object) -> Iterator[None]:
        with self._guard:
            entry = self._locks.get(str(key))
            if entry is None:
                entry = _Lock()
                self._locks[str(key)] = entry
        with entry.lock:  # `entry` keeps the lock alive while we hold or wait for it
            yield

    def __len__(self) -> int:
        return len(self._locks)


_instances = KeyedLocks()


def instance_lock(instance_uuid: object) -> AbstractContextManager[None]:
    """Serialises the host work on one instance inside this agent (a delete waits for a
    spawn that is running, and then tears down what it made)."""
    return _instances.hold(instance_uuid)


def instance_locks_in_use() -> int:
    return len(_instances)


@contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """An exclusive lock on `path` (created if missing), across threads and processes."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
