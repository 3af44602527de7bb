"""The seeds' --auto_assign_floating_ip: every new instance gets a floating IP of the default
pool (DEFAULT_FLOATING_POOL) for its project, and gives it back to the pool when it is deleted.

    assign(instance, host)   host hook after the instance has its fixed IPs (idempotent)

An instance still boots when no address can be given (pool empty, over quota): a floating IP
is an extra, so the reason is logged instead of failing the boot.
"""
import logging
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction

from ..models import FloatingIP
from . import FloatingError, addresses

log = logging.getLogger(__name__)


def assign(instance, host: str) -> FloatingIP | None:
    if not settings.AUTO_ASSIGN_FLOATING_IP:
        return None
    existing = FloatingIP.objects.filter(instance_uuid=instance.uuid, auto_assigned=True).first()
    if existing is not None:  # a re-delivered step: the same address, still pointed here
        return addresses.associate(_ctx(instance), instance, existing.address)
    ctx = _ctx(instance)
    try:
        with transaction.atomic():
            row = addresses.allocate(ctx, pool=None)
            FloatingIP.objects.filter(pk=row.pk).update(auto_assigned=True)
            row = addresses.associate(ctx, instance, row.address)
    except FloatingError as exc:
        log.warning("no floating IP auto-assigned to instance %s: %s", instance.uuid, exc.message)
        return None
    log.info("floating IP %s auto-assigned to instance %s", row.address, instance.uuid)
    return row


def _ctx(instance):
    return SimpleNamespace(project_id=instance.project_id, user_id=instance.user_id, is_admin=False)
