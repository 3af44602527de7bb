"""Signal receivers: a deleted server's volumes are detached (in the deleting transaction),
and (the `agent_start` host hook) the agent of <host> reports its volume storage when it is
ready and then every VOLUME_REPORT_INTERVAL seconds (the scheduler's view of free capacity)."""
import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.dispatch import receiver

from cloudproj.host import periodic
from compute.signals import instance_deleted

from .services.attachments import on_instance_deleted as detach_all
from .services.host import on_agent_start as report_storage

log = logging.getLogger(__name__)


@receiver(instance_deleted, dispatch_uid="volumes.signals.instance_deleted")
def on_instance_deleted(sender=None, instance=None, **kwargs):
    if instance is not None:
        detach_all(instance)


def on_agent_start(host: str):
    close_old_connections()
    try:
        return report_storage(host)
    except Exception:  # the agent must still start
        log.exception("reporting the volume storage of %s failed", host)
        return None
    finally:
        connection.close()
        start_reports(host)


def reporter_key(host: str) -> str:
    return f"volumes:{host}"


def start_reports(host: str, interval: float | None = None) -> threading.Event:
    """The storage report of `host` every `interval` seconds (VOLUME_REPORT_INTERVAL) in a
    periodic pass of the agent. Returns the event that stops it."""
    interval = float(interval if interval is not None else settings.VOLUME_REPORT_INTERVAL)
    return periodic.start(reporter_key(host), f"volume capacity report of {host}", report_storage, interval, host)
