"""Signal receivers: a deleted server's volumes are detached (in the deleting transaction),
and an agent `agent@<host>` reports its volume storage when it is ready."""
import logging

from celery import signals as celery_signals
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
    except Exception:  # noqa: BLE001 - the agent must still start
        log.exception("reporting the volume storage of %s failed", host)
        return None
    finally:
        connection.close()
