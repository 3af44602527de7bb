"""Instance snapshots (`createImage`): the disk flattened and uploaded as a private image.

    snapshot_server(ctx, instance, name, metadata) -> Image    API side: a queued image,
        task_state image_snapshot, then compute.snapshot_instance on the instance's host
    run_snapshot(uuid, request_id, image_id)                    host side: copy the disk
        (image_snapshot), upload it to the store (image_uploading), task_state back to None
    recover_interrupted(host)                                   agent start: snapshots its
        previous process left half-done are killed, their instances' task_state cleared

A failed snapshot leaves the instance as it was (task_state None, a fault recorded) and
the image `killed`.
"""
import logging
import uuid as uuid_lib

from django.db import transaction
from django.utils import timezone

from cloudproj.host.locks import instance_lock
from images.services import registry as image_service
from images.models import Image

from cloudproj import rpc

from .. import states
from ..models import Instance
from ..virt.snapshot import snapshot_disk
from . import host_resources as hr
from .actions import event, finish_action, get_action, record_fault, start_action
from cloudproj.exceptions import Conflict, Invalid
from .instances import UnexpectedTaskState, update_state

log = logging.getLogger(__name__)

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


def run_snapshot(instance_uuid, request_id: str, image_id: str) -> bool:
    with instance_lock(instance_uuid):
        instance = Instance.objects.filter(uuid=instance_uuid).first()
        image = Image.all_objects.filter(id=image_id).first()
        if instance is None or instance.task_state != T.IMAGE_SNAPSHOT or image is None:
            log.info("snapshot of %s skipped: task_state is no longer %s", instance_uuid, T.IMAGE_SNAPSHOT)
            return False
        if image.status != Image.QUEUED:
            log.info("snapshot of %s skipped: image %s is %s", instance_uuid, image_id, image.status)
            _settle(instance, [T.IMAGE_SNAPSHOT])
            return False
        record = get_action(instance, request_id, ACTION)
        copy = hr.instance_dir(instance) / f"snapshot-{image.id}.part"
        try:
            with event(record, "compute_snapshot_instance", host=instance.host):
                copy.unlink(missing_ok=True)
                snapshot_disk(hr.driver(), str(instance.uuid), hr.disk_path(instance), copy, SNAPSHOT_DISK_FORMAT)
                update_state(instance, expected_task_state=T.IMAGE_SNAPSHOT, task_state=T.IMAGE_UPLOADING)
                with open(copy, "rb") as handle:
                    image_service.upload(image, handle)
        except Exception as exc:  # noqa: BLE001 - reported as a fault; the instance carries on
            log.warning("snapshot of instance %s failed: %s", instance.uuid, exc)
            record_fault(instance, exc, host=instance.host)
            Image.all_objects.filter(pk=image.pk, status__in=[Image.QUEUED, Image.SAVING]).update(
                status=Image.KILLED, updated_at=timezone.now())
            _settle(instance, [T.IMAGE_SNAPSHOT, T.IMAGE_UPLOADING])
            if record is not None:
                finish_action(record, "Error")
            return False
        finally:
            copy.unlink(missing_ok=True)
        _settle(instance, [T.IMAGE_UPLOADING])
        if record is not None:
            finish_action(record)
        log.info("instance %s snapshot uploaded as image %s", instance.uuid, image.id)
        return True


def _settle(instance: Instance, expected: list) -> None:
    try:
        update_state(instance, expected_task_state=expected, task_state=None)
    except UnexpectedTaskState:
        pass


def recover_interrupted(host: str) -> list[str]:
    """What an agent that died during snapshots left behind, settled as Nova does on
    start-up: the instance's task_state cleared, its unfinished snapshot images killed."""
    recovered = []
    rows = Instance.objects.filter(host=host, task_state__in=[T.IMAGE_SNAPSHOT, T.IMAGE_UPLOADING])
    for instance in rows:
        with instance_lock(instance.uuid):
            Image.all_objects.filter(
                properties__instance_uuid=str(instance.uuid), properties__image_type="snapshot",
                status__in=[Image.QUEUED, Image.SAVING],
            ).update(status=Image.KILLED, updated_at=timezone.now())
            for leftover in hr.instance_dir(instance).glob("snapshot-*.part"):
                leftover.unlink(missing_ok=True)
            _settle(instance, [T.IMAGE_SNAPSHOT, T.IMAGE_UPLOADING])
            recovered.append(str(instance.uuid))
            log.info("instance %s: snapshot interrupted by an agent restart, task_state cleared", instance.uuid)
    return recovered
