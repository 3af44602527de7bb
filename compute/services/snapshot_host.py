"""Instance snapshots (`createImage`), the host side, run by the instance's agent.

    run_snapshot(uuid, request_id, image_id)    copy the disk (image_snapshot), upload it to
        the store (image_uploading), task_state back to None
    recover_interrupted(host)                   agent start: snapshots its previous process
        left half-done are killed, their instances' task_state cleared

A failed snapshot leaves the instance as it was (task_state None, a fault recorded) and
the image `killed`. The API side is compute.services.snapshots.
"""
import logging

from django.utils import timezone

from cloudproj.host.locks import instance_lock
from images.models import Image
from images.services import registry as image_service

from .. import states
from ..models import Instance
from ..virt.snapshot import snapshot_disk
from . import host_resources as hr
from .actions import event, finish_action, get_action, record_fault
from .instances import UnexpectedTaskState, update_state
from .snapshots import ACTION, BACKUP_ACTION, SNAPSHOT_DISK_FORMAT, backups_beyond_rotation

log = logging.getLogger(__name__)

T = states.task


def run_snapshot(instance_uuid, request_id: str, image_id: str, rotation: int | None = None) -> bool:
    """`rotation` (createBackup): once uploaded, this server's backups of the image's
    backup_type beyond the newest `rotation` are deleted."""
    backup = rotation is not None
    first = T.IMAGE_BACKUP if backup else T.IMAGE_SNAPSHOT
    with instance_lock(instance_uuid):
        instance = Instance.objects.filter(uuid=instance_uuid).first()
        image = Image.all_objects.filter(id=image_id).first()
        if instance is None or instance.task_state != first or image is None:
            log.info("snapshot of %s skipped: task_state is no longer %s", instance_uuid, first)
            return False
        if image.status != Image.QUEUED:
            log.info("snapshot of %s skipped: image %s is %s", instance_uuid, image_id, image.status)
            _settle(instance, [first])
            return False
        record = get_action(instance, request_id, BACKUP_ACTION if backup else ACTION)
        copy = hr.instance_dir(instance) / f"snapshot-{image.id}.part"
        try:
            with event(record, "compute_snapshot_instance", host=instance.host):
                copy.unlink(missing_ok=True)
                snapshot_disk(hr.driver(), str(instance.uuid), hr.disk_path(instance), copy, SNAPSHOT_DISK_FORMAT)
                update_state(instance, expected_task_state=first, task_state=T.IMAGE_UPLOADING)
                with open(copy, "rb") as handle:
                    image_service.upload(image, handle)
        except Exception as exc:  # noqa: BLE001 - reported as a fault; the instance carries on
            log.warning("snapshot of instance %s failed: %s", instance.uuid, exc)
            record_fault(instance, exc, host=instance.host)
            Image.all_objects.filter(pk=image.pk, status__in=[Image.QUEUED, Image.SAVING]).update(
                status=Image.KILLED, updated_at=timezone.now())
            _settle(instance, [first, T.IMAGE_UPLOADING])
            if record is not None:
                finish_action(record, "Error")
            return False
        finally:
            copy.unlink(missing_ok=True)
        if rotation is not None:
            _rotate(instance, image, rotation)
        _settle(instance, [T.IMAGE_UPLOADING])
        if record is not None:
            finish_action(record)
        log.info("instance %s snapshot uploaded as image %s", instance.uuid, image.id)
        return True


def _rotate(instance: Instance, image: Image, rotation: int) -> None:
    backup_type = (image.properties or {}).get("backup_type", "")
    for old in backups_beyond_rotation(instance.uuid, backup_type, rotation):
        try:
            image_service.delete_image(old)
        except (image_service.ImageNotFound, image_service.ImageForbidden) as exc:  # gone, or protected
            log.info("backup rotation of %s kept image %s: %s", instance.uuid, old.id, exc)
            continue
        log.info("backup rotation of %s (%s, keep %d): image %s deleted", instance.uuid, backup_type, rotation, old.id)


def _settle(instance: Instance, expected: list) -> None:
    try:
        update_state(instance, expected_task_state=expected, task_state=None)
    except UnexpectedTaskState:
        pass


def recover_interrupted(host: str) -> list[str]:
    """What an agent that died during snapshots left behind, settled as Nova does on
    start-up: the instance's task_state cleared, its unfinished snapshot images killed."""
    recovered = []
    rows = Instance.objects.filter(host=host, task_state__in=[T.IMAGE_SNAPSHOT, T.IMAGE_BACKUP, T.IMAGE_UPLOADING])
    for instance in rows:
        with instance_lock(instance.uuid):
            Image.all_objects.filter(
                properties__instance_uuid=str(instance.uuid), status__in=[Image.QUEUED, Image.SAVING],
            ).update(status=Image.KILLED, updated_at=timezone.now())
            for leftover in hr.instance_dir(instance).glob("snapshot-*.part"):
                leftover.unlink(missing_ok=True)
            _settle(instance, [T.IMAGE_SNAPSHOT, T.IMAGE_BACKUP, T.IMAGE_UPLOADING])
            recovered.append(str(instance.uuid))
            log.info("instance %s: snapshot interrupted by an agent restart, task_state cleared", instance.uuid)
    return recovered
