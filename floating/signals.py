"""Signal receivers: a deleted instance loses its floating IPs (in the deleting transaction),
and (the `agent_start` host hook) the agent of <host> re-applies its floating NAT from the DB
when it is ready and then periodically."""
from django.conf import settings
from django.dispatch import receiver

from cloudproj.host import periodic
from compute.signals import instance_deleted

from .services.addresses import disassociate_instance
from .services.host import on_agent_start as reapply


@receiver(instance_deleted, dispatch_uid="floating.signals.instance_deleted")
def on_instance_deleted(sender=None, instance=None, **kwargs):
    """Never leave a floating IP pointing at a deleted instance; its NAT host re-applies."""
    if instance is not None:
        disassociate_instance(instance.uuid)


def on_agent_start(host: str):
    """The host's floating NAT from the DB now, and again every FIREWALL_RESYNC_INTERVAL
    seconds (rules or addresses removed by hand are put back)."""
    what = f"re-applying the floating IPs of {host}"
    report = periodic.run_pass(what, reapply, host)
    periodic.start(f"floating:{host}", what, reapply, settings.FIREWALL_RESYNC_INTERVAL, host)
    return report
