"""Signal handlers of the secgroups app.

- instance_deleted: the instance leaves its groups; the hosts of members that admitted it
  by source group re-apply their chains.
- worker_ready of an agent (`agent@HOST`): every chain of HOST rewritten from the DB, then
  periodically (FIREWALL_RESYNC_INTERVAL).
"""
from celery import signals
from django.conf import settings
from django.dispatch import receiver

from cloudproj.host.identity import agent_host
from compute.signals import instance_deleted
from network import periodic


@receiver(instance_deleted, dispatch_uid="secgroups.signals.instance_deleted")
def on_instance_deleted(sender, instance, **kwargs):
    from .services.membership import release_instance

    release_instance(instance)


@signals.worker_ready.connect(dispatch_uid="secgroups.signals.worker_ready")
def on_worker_ready(sender=None, **kwargs):
    """Every chain of the host rewritten from the DB now, and again every
    FIREWALL_RESYNC_INTERVAL seconds (a chain changed or flushed by hand is put back)."""
    host = agent_host(sender)
    if host is None:
        return None
    from .services.host import enforced, regenerate

    if not enforced():
        return None

    what = f"regenerating the security group chains of {host}"
    report = periodic.run_pass(what, regenerate, host)
    periodic.start(f"secgroups:{host}", what, regenerate, settings.FIREWALL_RESYNC_INTERVAL, host)
    return report
