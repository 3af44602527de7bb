"""Signal handlers of the secgroups app.

- instance_deleted: the instance leaves its groups; the hosts of members that admitted it
  by source group re-apply their chains.
- agent start (the `agent_start` host hook): every chain of HOST rewritten from the DB,
  then periodically (FIREWALL_RESYNC_INTERVAL).
"""
from django.conf import settings
from django.dispatch import receiver

from cloudproj.host import periodic
from compute.signals import instance_deleted

from .services.host import enforced, regenerate
from .services.membership import release_instance


@receiver(instance_deleted, dispatch_uid="secgroups.signals.instance_deleted")
def on_instance_deleted(sender, instance, **kwargs):
    release_instance(instance)


def on_agent_start(host: str):
    """Every chain of the host rewritten from the DB now, and again every
    FIREWALL_RESYNC_INTERVAL seconds (a chain changed or flushed by hand is put back)."""
    if not enforced():
        return None

    what = f"regenerating the security group chains of {host}"
    report = periodic.run_pass(what, regenerate, host)
    periodic.start(f"secgroups:{host}", what, regenerate, settings.FIREWALL_RESYNC_INTERVAL, host)
    return report
