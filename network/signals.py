"""Agent start-up hook: a worker named `agent@<host>` re-creates its networks when ready.

compute.agent registers the services on `worker_init`; this runs on `worker_ready`, so a
restarted agent re-creates the bridges and dnsmasq of every network its host serves.
"""
import logging

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
