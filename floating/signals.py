"""Signal receivers: a deleted instance loses its floating IPs (in the deleting transaction).
The agent's start-up pass is floating.services.host.start_agent (an `agent_start` host hook)."""
from django.dispatch import receiver

from compute.signals import instance_deleted

from .services.addresses import disassociate_instance


@receiver(instance_deleted, dispatch_uid="floating.signals.instance_deleted")
def on_instance_deleted(sender=None, instance=None, **kwargs):
    """Never leave a floating IP pointing at a deleted instance; its NAT host re-applies."""
    if instance is not None:
        disassociate_instance(instance.uuid)
