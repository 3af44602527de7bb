"""Signals other apps listen to (connect in their AppConfig.ready).

instance_deleted(sender=Instance, instance=...)
    sent inside the transaction that soft-deletes the instance (exactly once per instance):
    release what the app ties to it in the DB (floating IPs, group memberships ...). Host
    state is torn down by cloudproj.host.hooks.before_cleanup on the instance's host.
"""
from django.dispatch import Signal

instance_deleted = Signal()
