"""Periodic cleanup of this host's image cache (off unless IMAGE_CACHE_CLEANUP_INTERVAL > 0).

A base is kept while any instance the DB places on this host (building, running, stopped,
in error: anything not deleted) uses it as its image, kernel or ramdisk, or while an
instance disk on this host is built on it, or while it is younger than
IMAGE_CACHE_MIN_AGE seconds. Everything else in `_base` is removed.
"""
import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from images.drivers import cache as image_cache

from ..models import Instance

log = logging.getLogger(__name__)

_threads: dict[str, threading.Event] = {}


def images_used_on(host: str) -> set[str]:
    """sha1 cache names of the images instances on `host` need."""
    used: set[str] = set()
    rows = Instance.objects.filter(host=host).values_list("image_ref", "kernel_id", "ramdisk_id")
    for row in rows:
        used.update(image_cache.cache_name(image_id) for image_id in row if image_id)
    return used


def cleanup_host_cache(host: str, min_age: float | None = None) -> list[str]:
    min_age = settings.IMAGE_CACHE_MIN_AGE if min_age is None else min_age
    removed = image_cache.cleanup(images_used_on(host), min_age)
    return [path.name for path in removed]


def start_periodic_cleanup(host: str, interval: float | None = None) -> threading.Event | None:
    """A daemon thread of the agent running cleanup_host_cache(host) every `interval`
    seconds; None when the interval is 0 (the default: off)."""
    interval = float(settings.IMAGE_CACHE_CLEANUP_INTERVAL if interval is None else interval)
    if interval <= 0:
        return None
    if host in _threads:
        return _threads[host]
    stopped = threading.Event()
    _threads[host] = stopped

    def loop():
        while not stopped.wait(interval):
            close_old_connections()
            try:
                removed = cleanup_host_cache(host)
                if removed:
                    log.info("image cache of %s: removed %d unused bases", host, len(removed))
            except Exception:  # e.g. the database is briefly unreachable
                log.exception("image cache cleanup on %s failed; retrying in %ss", host, interval)
            finally:
                connection.close()

    threading.Thread(target=loop, name=f"image-cache-cleanup-{host}", daemon=True).start()
    return stopped


def stop_all() -> None:
    for stopped in _threads.values():
        stopped.set()
    _threads.clear()
