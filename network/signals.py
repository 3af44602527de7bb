"""Agent start-up hook: a worker named `agent@<host>` re-creates its networks when ready,
then supervises them every NETWORK_SUPERVISE_INTERVAL seconds (a dnsmasq that died is
restarted, a removed bridge re-created, leases recorded, deleted networks torn down).

compute.agent registers the services on `worker_init`; this runs on `worker_ready`, so a
restarted agent re-creates the bridges and dnsmasq of every network its host serves.
"""
import logging
import threading

from django.conf import settings

from celery import signals
from django.db import close_old_connections, connection

log = logging.getLogger(__name__)


def agent_host(sender) -> str | None:
    """`host` for a worker (or consumer) named `agent@host`, else None."""
    hostname = getattr(sender, "hostname", None) or getattr(getattr(sender, "controller", None), "hostname", None)
    if not hostname:
        return None
    name, _, host = str(hostname).partition("@")
    return host if name == "agent" and host else None


@signals.worker_ready.connect(dispatch_uid="network.signals.worker_ready")
def on_worker_ready(sender=None, **kwargs):
    host = agent_host(sender)
    if host is None:
        return None
    from .services.host import on_agent_start

    close_old_connections()
    try:
        return on_agent_start(host)
    except Exception:  # noqa: BLE001 - the agent must still start; supervision retries later
        log.exception("re-creating the networks of %s failed", host)
        return None
    finally:
        connection.close()
        start_supervision(host)


_supervisors: dict[str, threading.Event] = {}


def start_supervision(host: str, interval: float | None = None) -> threading.Event:
    """A daemon thread of the agent running `supervise_host_networks(host)` periodically.
    Returns the event that stops it (set on worker shutdown)."""
    from .services.host import supervise_host_networks

    if host in _supervisors:
        return _supervisors[host]
    interval = float(interval if interval is not None else settings.NETWORK_SUPERVISE_INTERVAL)
    stopped = threading.Event()
    _supervisors[host] = stopped

    def loop():
        while not stopped.wait(interval):
            close_old_connections()
            try:
                supervise_host_networks(host)
            except Exception:  # noqa: BLE001 - e.g. the database is briefly unreachable
                log.exception("network supervision of %s failed; retrying in %ss", host, interval)
            finally:
                connection.close()

    threading.Thread(target=loop, name=f"network-supervisor-{host}", daemon=True).start()
    return stopped


@signals.worker_shutdown.connect(dispatch_uid="network.signals.worker_shutdown")
def on_worker_shutdown(sender=None, **kwargs):
    for stopped in _supervisors.values():
        stopped.set()
    _supervisors.clear()
