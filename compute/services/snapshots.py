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
from . import volume_backed
from .actions import start_action
from cloudproj.exceptions import Conflict, Invalid
from .instances import update_state

T = states.task
ACTION = "createImage"
BACKUP_ACTION = "createBackup"
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


def snapshot_server(ctx, instance: Instance, name: str, metadata: dict | None = None,
                    _backup: tuple[str, int] | None = None) -> Image:
    """Register the snapshot image (queued, private to the caller's project) and ask the
    instance's host to fill it. 409 unless the instance is active/stopped/paused/suspended
    with no task under way. The caller's metadata may set `image_type` (as in Nova), not
    which server the image came from."""
    action = BACKUP_ACTION if _backup else ACTION
    volume_backed.refuse(instance, "createImage")
    if not isinstance(name, str) or not name.strip():
        raise Invalid("Invalid input for field/attribute name: a non-empty string is required.")
    metadata = metadata or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise Invalid("Invalid input for field/attribute metadata: string keys and values are required.")
    states.check_allowed(instance, "create_image", is_admin=getattr(ctx, "is_admin", False))
    if not instance.host:
        raise Conflict(f"Cannot '{action}' instance {instance.uuid} while it has no host.")
    system = {"image_type": "backup", "backup_type": _backup[0]} if _backup else {"image_type": "snapshot"}
    properties = {**_inherited(instance), **system, **metadata,
                  "instance_uuid": str(instance.uuid), "base_image_ref": instance.image_ref or ""}
    if _backup:
        properties.update(system)  # what the rotation goes by
    vm_ok, task_ok = states.ALLOWED["create_image"]
    with transaction.atomic():
        update_state(instance, expected_task_state=list(task_ok), expected_vm_state=list(vm_ok),
                     task_state=T.IMAGE_BACKUP if _backup else T.IMAGE_SNAPSHOT)
        start_action(instance, action, ctx)  # Nova's instance action names
        try:
            image = image_service.create_image(
                name, SNAPSHOT_DISK_FORMAT, "bare", owner=ctx.project, visibility=Image.PRIVATE,
                properties=properties, **_base_limits(instance),
            )
        except image_service.ImageError as exc:
            raise Invalid(exc.message) from None
        rpc.snapshot_instance(instance.host, str(instance.uuid), getattr(ctx, "request_id", None) or "-",
                              str(image.id), rotation=_backup[1] if _backup else None)
    return image


def backup_server(ctx, instance: Instance, name: str, backup_type: str, rotation: int,
                  metadata: dict | None = None) -> Image:
    """Nova's createBackup: a snapshot with image_type `backup` and `backup_type`; once it is
    uploaded, the host deletes this server's oldest backups of that type beyond `rotation`."""
    if not isinstance(backup_type, str) or not backup_type.strip() or len(backup_type) > 255:
        raise Invalid("Invalid input for field/attribute backup_type: a non-empty string is required.")
    if isinstance(rotation, bool) or not isinstance(rotation, int) or rotation < 0:
        raise Invalid("Invalid input for field/attribute rotation: an integer >= 0 is required.")
    return snapshot_server(ctx, instance, name, metadata, _backup=(backup_type, rotation))


def backups_beyond_rotation(instance_uuid, backup_type: str, rotation: int) -> list[Image]:
    """The backups of this server and type to delete so that `rotation` remain, oldest first."""
    rows = list(Image.objects.filter(properties__instance_uuid=str(instance_uuid), properties__image_type="backup",
                                     properties__backup_type=backup_type).order_by("-created_at", "-id"))
    return list(reversed(rows[rotation:]))
