"""Instance snapshots (`createImage`), the API side: the disk flattened and uploaded as a
private image.

    snapshot_server(ctx, instance, name, metadata) -> Image    a queued image, task_state
        image_snapshot, then compute.snapshot_instance on the instance's host

The host side (copying the disk, uploading it, recovery on agent start) is in
compute.services.snapshot_host, which only the agent's tasks import.
"""
import uuid as uuid_lib

from django.db import transaction

from images.services import registry as image_service
from images.models import Image

from cloudproj import rpc

from .. import states
from ..models import Instance
from .actions import start_action
from cloudproj.exceptions import Conflict, Invalid
from .instances import update_state

T = states.task
ACTION = "createImage"
# properties of the instance's image that describe how to boot it, and go to its snapshots
NOT_INHERITED = {"image_type", "instance_uuid", "base_image_ref", "image_location", "image_state",
                 "owner_id", "user_id"}
SNAPSHOT_DISK_FORMAT = "qcow2"


def _inherited(instance: Instance) -> dict:
    props = {k: v for k, v in (instance.image_properties or {}).items()
             if k not in NOT_INHERITED and not k.startswith("owner_specified.")}
    if instance.kernel_id:
        props["kernel_id"] = instance.kernel_id
    if instance.ramdisk_id:
        props["ramdisk_id"] = instance.ramdisk_id
    return props


def _base_limits(instance: Instance) -> dict:
    try:
        base = Image.all_objects.filter(id=uuid_lib.UUID(str(instance.image_ref))).first()
    except ValueError:
        base = None
    min_disk = max(base.min_disk if base else 0, instance.root_gb or 0)
    return {"min_disk": min_disk, "min_ram": base.min_ram if base else 0}


def snapshot_server(ctx, instance: Instance, name: str, metadata: dict | None = None) -> Image:
    """Register the snapshot image (queued, private to the caller's project) and ask the
    instance's host to fill it. 409 unless the instance is active/stopped/paused/suspended
    with no task under way."""
    if not isinstance(name, str) or not name.strip():
        raise Invalid("Invalid input for field/attribute name: a non-empty string is required.")
    metadata = metadata or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise Invalid("Invalid input for field/attribute metadata: string keys and values are required.")
    states.check_allowed(instance, "create_image", is_admin=getattr(ctx, "is_admin", False))
    if not instance.host:
        raise Conflict(f"Cannot 'createImage' instance {instance.uuid} while it has no host.")
    properties = {**_inherited(instance), **metadata, "image_type": "snapshot",
                  "instance_uuid": str(instance.uuid), "base_image_ref": instance.image_ref or ""}
    vm_ok, task_ok = states.ALLOWED["create_image"]
    with transaction.atomic():
        update_state(instance, expected_task_state=list(task_ok), expected_vm_state=list(vm_ok),
                     task_state=T.IMAGE_SNAPSHOT)
        start_action(instance, ACTION, ctx)  # Nova's instance action name
        try:
            image = image_service.create_image(
                name, SNAPSHOT_DISK_FORMAT, "bare", owner=ctx.project, visibility=Image.PRIVATE,
                properties=properties, **_base_limits(instance),
            )
        except image_service.ImageError as exc:
            raise Invalid(exc.message) from None
        rpc.snapshot_instance(instance.host, str(instance.uuid), getattr(ctx, "request_id", None) or "-",
                              str(image.id))
    return image
