"""Periodic passes of a host agent: daemon threads that run one function every N seconds,
each pass with a fresh database connection and its failure logged (the next pass retries),
all stopped when the worker shuts down.

    run_pass(what, fn, *args)            one pass now (also used at agent start)
    start(key, what, fn, interval, ...)  a thread repeating it; one per key
"""
import logging
import threading
from collections.abc import Callable
from typing import Any

from celery import signals
from django.db import close_old_connections, connection

log = logging.getLogger(__name__)

_stops: dict[str, threading.Event] = {}
_guard = threading.Lock()


def run_pass(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    close_old_connections()
    try:
        return fn(*args)
    except Exception:  # e.g. the database is briefly unreachable: the next pass retries
        log.exception("%s failed", what)
        return None
    finally:
        connection.close()


def start(key: str, what: str, fn: Callable[..., Any], interval: float, *args: Any) -> threading.Event:
    """Run `fn(*args)` every `interval` seconds in a daemon thread (once per `key`).
    Returns the event that stops it."""
    with _guard:
        if key in _stops:
            return _stops[key]
        stopped = _stops[key] = threading.Event()
    interval = float(interval)

    def loop() -> None:
        while not stopped.wait(interval):
            run_pass(what, fn, *args)

    threading.Thread(target=loop, name=f"periodic-{key}", daemon=True).start()
    return stopped


def stop(key: str) -> None:
    """Stop the pass of `key` (a later start() of the key starts it again)."""
    with _guard:
        stopped = _stops.pop(key, None)
    if stopped is not None:
        stopped.set()


def stop_all() -> None:
    with _guard:
        for stopped in _stops.values():
            stopped.set()
        _stops.clear()


def on_worker_shutdown(sender: object = None, **kwargs: Any) -> None:
    stop_all()


signals.worker_shutdown.connect(on_worker_shutdown, dispatch_uid="cloudproj.host.periodic.worker_shutdown")
