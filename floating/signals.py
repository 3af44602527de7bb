"""Signal receivers: a deleted instance loses its floating IPs (in the deleting transaction),
and an agent `agent@<host>` re-applies its floating NAT from the DB when it is ready and then
periodically."""
from celery import signals as celery_signals
from django.conf import settings
from django.dispatch import receiver

from cloudproj.host.identity import agent_host
from compute.signals import instance_deleted


@receiver(instance_deleted, dispatch_uid="floating.signals.instance_deleted")
def on_instance_deleted(sender=None, instance=None, **kwargs):
    """Never leave a floating IP pointing at a deleted instance; its NAT host re-applies."""
    from .services.addresses import disassociate_instance

    if instance is not None:
        disassociate_instance(instance.uuid)


@celery_signals.worker_ready.connect(dispatch_uid="floating.signals.worker_ready")
def on_worker_ready(sender=None, **kwargs):
    """The host's floating NAT from the DB now, and again every FIREWALL_RESYNC_INTERVAL
    seconds (rules or addresses removed by hand are put back)."""
    from network import periodic

    from .services.host import on_agent_start

    host = agent_host(sender)
    if host is None:
        return None
    what = f"re-applying the floating IPs of {host}"
    report = periodic.run_pass(what, on_agent_start, host)
    periodic.start(f"floating:{host}", what, on_agent_start, settings.FIREWALL_RESYNC_INTERVAL, host)
    return report
