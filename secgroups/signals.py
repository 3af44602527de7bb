"""Signal handlers of the secgroups app.

- instance_deleted: the instance leaves its groups; the hosts of members that admitted it
  by source group re-apply their chains.

The agent's start-up pass is secgroups.services.host.on_agent_start (an `agent_start` host hook).
"""
from django.dispatch import receiver

from compute.signals import instance_deleted

from .services.membership import release_instance


@receiver(instance_deleted, dispatch_uid="secgroups.signals.instance_deleted")
def on_instance_deleted(sender, instance, **kwargs):
    release_instance(instance)
