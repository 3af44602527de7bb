"""Signal receivers: a deleted instance loses its floating IPs (in the deleting transaction),
and an agent `agent@<host>` re-applies its floating NAT from the DB when it is ready."""
import logging

from celery import signals as celery_signals
from django.db import close_old_connections, connection
from django.dispatch import receiver

from compute.signals import instance_deleted

log = logging.getLogger(__name__)


@receiver(instance_deleted, dispatch_uid="floating.signals.instance_deleted")
def on_instance_deleted(sender=None, instance=None, **kwargs):
    """Never leave a floating IP pointing at a deleted instance; its NAT host re-applies."""
    from .services.addresses import disassociate_instance

    if instance is not None:
        disassociate_instance(instance.uuid)


@celery_signals.worker_ready.connect(dispatch_uid="floating.signals.worker_ready")
def on_worker_ready(sender=None, **kwargs):
    from network.signals import agent_host

    from .services.host import on_agent_start

    host = agent_host(sender)
    if host is None:
        return None
    close_old_connections()
    try:
        return on_agent_start(host)
    except Exception:  # noqa: BLE001 - the agent must still start; the next change re-applies
        log.exception("re-applying the floating IPs of %s failed", host)
        return None
    finally:
        connection.close()
