"""Trigger a crash dump (compute API 2.17): the host injects an NMI into the guest, whose
kernel takes its dump (kdump) or panics, as it is configured to.

    request(ctx, instance)   409 unless the server may take one now (state, lock, not running);
                             the action `trigger_crash_dump` is recorded and the host asked

The host's side is compute.services.crash_dump_host. Nothing changes the server's states:
the guest decides what it does with the NMI.
"""
from django.db import transaction

from cloudproj import rpc

from .. import states
from ..models import Instance
from ..virt import power_state as ps
from .actions import start_action
from cloudproj.exceptions import Conflict

ACTION = "trigger_crash_dump"


def request(ctx, instance: Instance) -> None:
    states.check_allowed(instance, ACTION, is_admin=getattr(ctx, "is_admin", False))
    if instance.power_state != ps.RUNNING or not instance.host:
        raise Conflict(f"Instance {instance.uuid} is not running.")
    with transaction.atomic():
        start_action(instance, ACTION, ctx)
        request_id = getattr(ctx, "request_id", None) or "-"
        rpc.instance_action(instance.host, str(instance.uuid), request_id, ACTION, {})
