"""Locking a server (Nova's lock/unlock): a locked server refuses state changes from anyone
but admins (compute.states.check_allowed answers 409). Who locked it is kept: a server an
admin locked for another project can only be unlocked by an admin (403 for its owner).

    lock(ctx, instance, reason=None)
    unlock(ctx, instance)
"""
from django.db import transaction

from cloudproj.exceptions import Forbidden, Invalid
from identity.services import policy

from ..models import Instance
from .actions import finish_action, start_action


OVERRIDE = "compute:servers:unlock:unlock_override"  # lifting a lock an admin set (admins)


def lock(ctx, instance: Instance, reason=None) -> Instance:
    if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
        raise Invalid("Invalid input for field/attribute locked_reason: a string of at most 255 characters.")
    owner = ctx.project_id == instance.project_id
    with transaction.atomic():
        row = Instance.objects.select_for_update().get(pk=instance.pk)
        action = start_action(row, "lock", ctx)
        row.locked, row.locked_by, row.locked_reason = True, "owner" if owner else "admin", reason
        row.save(update_fields=["locked", "locked_by", "locked_reason", "updated_at"])
        finish_action(action)
    instance.locked, instance.locked_by, instance.locked_reason = row.locked, row.locked_by, row.locked_reason
    return instance


def unlock(ctx, instance: Instance) -> Instance:
    if instance.locked and instance.locked_by == "admin" and not policy.authorize(ctx, OVERRIDE):
        raise Forbidden("Policy doesn't allow compute:servers:unlock:unlock_override to be performed.")
    with transaction.atomic():
        row = Instance.objects.select_for_update().get(pk=instance.pk)
        action = start_action(row, "unlock", ctx)
        row.locked, row.locked_by, row.locked_reason = False, None, None
        row.save(update_fields=["locked", "locked_by", "locked_reason", "updated_at"])
        finish_action(action)
    instance.locked, instance.locked_by, instance.locked_reason = False, None, None
    return instance
