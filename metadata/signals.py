"""Agent start-up: a worker named `agent@<host>` sets up the metadata rules of every network
its host serves when it is ready, then re-checks them every NETWORK_SUPERVISE_INTERVAL
seconds (a network created later, a rule removed by hand, a bridge that went away)."""
import logging
import threading

from celery import signals
from django.conf import settings
from django.db import close_old_connections, connection

from network.signals import agent_host

log = logging.getLogger(__name__)

_supervisors: dict[str, threading.Event] = {}


def _pass(host: str) -> None:
    from .host import ensure_host_rules

    close_old_connections()
    try:
        ensure_host_rules(host)
    except Exception:  # noqa: BLE001 - the agent goes on; the next pass retries
        log.exception("metadata rules of %s could not be applied", host)
    finally:
        connection.close()


@signals.worker_ready.connect(dispatch_uid="metadata.signals.worker_ready")
def on_worker_ready(sender=None, **kwargs):
    host = agent_host(sender)
    if host is None or host in _supervisors:
        return
    _pass(host)
    stopped = _supervisors[host] = threading.Event()
    interval = float(settings.NETWORK_SUPERVISE_INTERVAL)

    def loop():
        while not stopped.wait(interval):
            _pass(host)

    threading.Thread(target=loop, name=f"metadata-supervisor-{host}", daemon=True).start()


@signals.worker_shutdown.connect(dispatch_uid="metadata.signals.worker_shutdown")
def on_worker_shutdown(sender=None, **kwargs):
    for stopped in _supervisors.values():
        stopped.set()
    _supervisors.clear()
