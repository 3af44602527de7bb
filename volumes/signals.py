"""Signal receivers: a deleted server's volumes are detached (in the deleting transaction),
and an agent `agent@<host>` reports its volume storage when it is ready and then every
VOLUME_REPORT_INTERVAL seconds (the scheduler's view of free capacity)."""
import logging
import threading

from celery import signals as celery_signals
from django.conf import settings
from django.db import close_old_connections, connection
from django.dispatch import receiver

from compute.signals import instance_deleted

log = logging.getLogger(__name__)


@receiver(instance_deleted, dispatch_uid="volumes.signals.instance_deleted")
def on_instance_deleted(sender=None, instance=None, **kwargs):
    from .services.attachments import on_instance_deleted as detach_all

    if instance is not None:
        detach_all(instance)


@celery_signals.worker_ready.connect(dispatch_uid="volumes.signals.worker_ready")
def on_worker_ready(sender=None, **kwargs):
    from network.signals import agent_host

    from .services.host import on_agent_start

    host = agent_host(sender)
    if host is None:
        return None
    close_old_connections()
    try:
        return on_agent_start(host)
    except Exception:  # the agent must still start
        log.exception("reporting the volume storage of %s failed", host)
        return None
    finally:
        connection.close()
        start_reports(host)


_reporters: dict[str, threading.Event] = {}


def start_reports(host: str, interval: float | None = None) -> threading.Event:
    from .services.host import on_agent_start

    if host in _reporters:
        return _reporters[host]
    interval = float(interval if interval is not None else settings.VOLUME_REPORT_INTERVAL)
    stopped = _reporters[host] = threading.Event()

    def loop():
        while not stopped.wait(interval):
            close_old_connections()
            try:
                on_agent_start(host)
            except Exception:  # e.g. the database is briefly unreachable
                log.exception("volume capacity report of %s failed; retrying in %ss", host, interval)
            finally:
                connection.close()

    threading.Thread(target=loop, name=f"volume-reports-{host}", daemon=True).start()
    return stopped


@celery_signals.worker_shutdown.connect(dispatch_uid="volumes.signals.worker_shutdown")
def on_worker_shutdown(sender=None, **kwargs):
    for stopped in _reporters.values():
        stopped.set()
    _reporters.clear()
