"""Signal handlers of the secgroups app.

- instance_deleted: the instance leaves its groups; the hosts of members that admitted it
  by source group re-apply their chains.
- worker_ready of an agent (`agent@HOST`): every chain of HOST rewritten from the DB.
"""
import logging

from celery import signals
from django.db import close_old_connections, connection
from django.dispatch import receiver

from compute.signals import instance_deleted
from network.signals import agent_host

log = logging.getLogger(__name__)


@receiver(instance_deleted, dispatch_uid="secgroups.signals.instance_deleted")
def on_instance_deleted(sender, instance, **kwargs):
    from .services.membership import release_instance

    release_instance(instance)


@signals.worker_ready.connect(dispatch_uid="secgroups.signals.worker_ready")
def on_worker_ready(sender=None, **kwargs):
    host = agent_host(sender)
    if host is None:
        return None
    from .services.host import regenerate

    close_old_connections()
    try:
        return regenerate(host)
    except Exception:  # noqa: BLE001 - the agent must still start; every change re-applies later
        log.exception("regenerating the security group chains of %s failed", host)
        return None
    finally:
        connection.close()
