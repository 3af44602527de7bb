"""Rescue and unrescue (Nova's): the server boots from a rescue image with its own disk
attached second (/dev/vdb), so a user can repair it; unrescue boots its own disk again.

    rescue_server(ctx, instance, image=None) -> None    RESCUE (task rescuing); the host runs
                                                        `rescue_on_host` (lifecycle.run_action)
    unrescue_server(ctx, instance)                      back to ACTIVE (task unrescuing)

The rescue disk is a fresh qcow2 overlay on the rescue image (the server's own image unless
another is asked for) in the instance directory (`disk.rescue`); unrescue and delete remove
it. A rescue that fails on the host puts the server's own domain back and answers with a
fault; nothing of the rescue is left.
"""
import logging

from django.db import transaction

from cloudproj import rpc
from cloudproj.exceptions import Conflict

from .. import states
from ..models import Instance
from .instances import begin, validate_image
from . import volume_backed

log = logging.getLogger(__name__)

T = states.task
RESCUE_DISK = "disk.rescue"


def _request_id(ctx) -> str:
    return getattr(ctx, "request_id", None) or "-"


def rescue_server(ctx, instance: Instance, image: dict | None = None) -> None:
    """409 unless ACTIVE, SHUTOFF or ERROR with no task; `image` (a mapping as find_image
    gives) is the rescue image, else the server's own."""
    states.check_allowed(instance, "rescue", is_admin=getattr(ctx, "is_admin", False))
    volume_backed.refuse(instance, "rescue")
    if not instance.host:
        raise Conflict(f"Cannot 'rescue' instance {instance.uuid} while it has no host.")
    if image is not None:
        info = validate_image(image, instance)
    else:
        info = {"id": instance.image_ref, "kernel_id": instance.kernel_id, "ramdisk_id": instance.ramdisk_id,
                "properties": dict(instance.image_properties or {})}
    params = {"image_id": info["id"], "kernel_id": info["kernel_id"], "ramdisk_id": info["ramdisk_id"],
              "cmdline": (info["properties"] or {}).get("os_command_line"), "was": instance.vm_state}
    with transaction.atomic():
        begin(instance, "rescue", ctx, task_state=T.RESCUING)
        rpc.instance_action(instance.host, str(instance.uuid), _request_id(ctx), "rescue", params)


def unrescue_server(ctx, instance: Instance) -> None:
    states.check_allowed(instance, "unrescue", is_admin=getattr(ctx, "is_admin", False))
    with transaction.atomic():
        begin(instance, "unrescue", ctx, task_state=T.UNRESCUING)
        rpc.instance_action(instance.host, str(instance.uuid), _request_id(ctx), "unrescue", {})
