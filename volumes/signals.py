"""Signal receivers: a deleted server's volumes are detached (in the deleting transaction).
(The agent's volume storage reports are in volumes.agent_start.)"""

from django.dispatch import receiver

from compute.signals import instance_deleted

from .services.attachments import on_instance_deleted as detach_all


@receiver(instance_deleted, dispatch_uid="volumes.signals.instance_deleted")
def on_instance_deleted(sender=None, instance=None, **kwargs):
    if instance is not None:
        detach_all(instance)
