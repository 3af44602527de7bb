"""What a volume host's agent does (tasks on `volume.<host>`): storage through its driver,
then the row's next status. Each step only acts when the row still has the status the API
set, so a re-delivered message does nothing twice; the drivers' operations are idempotent
too. After every change the host reports its capacity (VolumeHost) for the scheduler.
"""
import logging
import os
import tempfile
from pathlib import Path

from django.db import transaction

from images.drivers import cache as image_cache
from images.drivers import qemu_img, store
from images.models import Image
from images.services import registry

from .. import states
from ..drivers import VolumeDriverError, get_driver
from ..models import Snapshot, Volume, VolumeAttachment, VolumeHost
from . import messages
from . import snapshots as snapshot_service
from . import volumes as volume_service
from .volumes import give_back, transition, with_type

log = logging.getLogger(__name__)


# an image's disk_format -> the format qemu-img reads it in (kernel, ramdisk, iso...: plain files)
QEMU_FORMATS = {"qcow2": "qcow2", "vmdk": "vmdk", "vdi": "vdi", "vhd": "vpc", "vhdx": "vhdx"}


def _qemu_format(disk_format) -> str:
    return QEMU_FORMATS.get(disk_format or "raw", "raw")


def report_capacity(host: str, driver=None) -> VolumeHost:
    driver = driver or get_driver()
    stats = driver.stats()
    row, _ = VolumeHost.objects.update_or_create(
        host=host, defaults={"driver": driver.name, "total_gb": stats.total_gb, "free_gb": stats.free_gb,
                             "details": stats.details},
    )
    return row


def _driver_for(volume_or_snapshot):
    name = getattr(volume_or_snapshot, "driver", "") or volume_or_snapshot.volume.driver
    return get_driver(name or None)


def _message(exc: Exception) -> str:
    return str(exc)[:255]


def _report(host: str, driver) -> None:
    try:
        report_capacity(host, driver)
    except Exception:  # the next report corrects it
        log.exception("could not report the capacity of %s", host)


def create_volume(volume_id: int) -> str:
    volume = Volume.objects.filter(pk=volume_id).first()
    if volume is None or volume.status != states.CREATING:
        return "skipped"
    driver = _driver_for(volume)
    try:
        if volume.snapshot_id:
            snapshot = Snapshot.all_objects.get(pk=volume.snapshot_id)
            driver.create_from_snapshot(volume.storage_name, volume.size, snapshot.storage_name)
        elif volume.source_volume_id:  # a clone: the same copy, from the source volume's storage
            source = Volume.all_objects.get(pk=volume.source_volume_id)
            driver.create_from_snapshot(volume.storage_name, volume.size, source.storage_name)
        elif volume.image_id:
            image = Image.all_objects.filter(id=volume.image_id).first()
            if image is None:
                raise VolumeDriverError(f"image {volume.image_id} is gone")
            path = image_cache.ensure_cached(image)
            driver.create_from_image(volume.storage_name, volume.size, str(path), _qemu_format(image.disk_format))
        else:
            driver.create(volume.storage_name, volume.size)
    except (VolumeDriverError, image_cache.CacheError, OSError) as exc:
        log.error("creating %s failed: %s", volume.ec2_id, exc)
        if transition(Volume, volume.pk, (states.CREATING,), states.ERROR, error_message=_message(exc)):
            if volume.image_id:
                messages.record(volume.project_id, messages.VOLUME, volume.uuid, messages.COPY_IMAGE_TO_VOLUME,
                                messages.IMAGE_FAILED)
            else:
                messages.record(volume.project_id, messages.VOLUME, volume.uuid,
                                messages.CREATE_VOLUME_FROM_BACKEND, messages.DRIVER_FAILED_CREATE)
        _report(volume.host, driver)
        return states.ERROR
    # a server's root volume (boot from volume) goes on to its server, never to the free pool
    written = states.ATTACHING if VolumeAttachment.objects.filter(volume=volume).exists() else states.AVAILABLE
    transition(Volume, volume.pk, (states.CREATING,), written)
    _report(volume.host, driver)
    log.info("volume %s (%sG) created on %s", volume.ec2_id, volume.size, volume.host)
    return written


def upload_to_image(volume_id: int, image_id: str) -> str:
    """os-volume_upload_image on the volume's host: the volume's data, converted by qemu-img to
    the image's disk format (-U: an attached volume is read while its server runs), stored as
    the queued image's data (active), then the volume is back to available or in-use. On
    failure the image is killed and the project gets a message."""
    volume = Volume.objects.filter(pk=volume_id).first()
    if volume is None or volume.status != states.UPLOADING:
        return "skipped"
    back = states.IN_USE if VolumeAttachment.objects.filter(volume=volume).exists() else states.AVAILABLE
    image = Image.all_objects.filter(id=image_id).first()
    if image is None or image.status != Image.QUEUED:  # deleted (or filled) meanwhile
        transition(Volume, volume.pk, (states.UPLOADING,), back)
        return "skipped"
    driver = _driver_for(volume)
    fd, tmp = tempfile.mkstemp(prefix=f".upload-{image.id}.", suffix=".part", dir=store.store_root())
    os.close(fd)
    try:
        local = driver.connection(volume.storage_name)
        qemu_img.convert(local.path, tmp, image.disk_format, in_format=local.format, force_share=True)
        with open(tmp, "rb") as data:
            registry.upload(image, data)
    except (VolumeDriverError, qemu_img.QemuImgError, registry.ImageError, store.StoreError, OSError) as exc:
        log.error("uploading %s to image %s failed: %s", volume.ec2_id, image.id, exc)
        Image.all_objects.filter(pk=image.pk, status__in=(Image.QUEUED, Image.SAVING)).update(status=Image.KILLED)
        transition(Volume, volume.pk, (states.UPLOADING,), back)
        messages.record(volume.project_id, messages.VOLUME, volume.uuid, messages.COPY_VOLUME_TO_IMAGE,
                        messages.UPLOAD_FAILED)
        return states.ERROR
    finally:
        Path(tmp).unlink(missing_ok=True)
    transition(Volume, volume.pk, (states.UPLOADING,), back)
    log.info("volume %s uploaded to image %s (%s)", volume.ec2_id, image.id, image.disk_format)
    return back


def delete_volume(volume_id: int) -> str:
    volume = Volume.objects.filter(pk=volume_id).first()
    if volume is None or volume.status != states.DELETING:
        return "skipped"
    # a cascade delete (?cascade=true) marked the volume's snapshots deleting: they go first,
    # here, in order (the storage of a volume cannot go while snapshots of it remain)
    for snapshot_id in Snapshot.objects.filter(volume=volume, status=states.DELETING).values_list("pk", flat=True):
        delete_snapshot(snapshot_id)
    if Snapshot.objects.filter(volume=volume).exists():
        transition(Volume, volume.pk, (states.DELETING,), states.ERROR_DELETING,
                   error_message="A snapshot of the volume could not be deleted.")
        return states.ERROR_DELETING
    driver = _driver_for(volume)
    try:
        driver.delete(volume.storage_name)
    except (VolumeDriverError, OSError) as exc:
        log.error("deleting %s failed: %s", volume.ec2_id, exc)
        if transition(Volume, volume.pk, (states.DELETING,), states.ERROR_DELETING, error_message=_message(exc)):
            messages.record(volume.project_id, messages.VOLUME, volume.uuid, messages.DELETE_VOLUME,
                            messages.UNKNOWN_ERROR)
        return states.ERROR_DELETING
    volume_service.finish_delete(volume.pk)
    _report(volume.host, driver)
    log.info("volume %s deleted on %s", volume.ec2_id, volume.host)
    return states.DELETED


def extend_volume(volume_id: int, new_size: int) -> str:
    volume = Volume.objects.filter(pk=volume_id).first()
    if volume is None or volume.status != states.EXTENDING:
        return "skipped"
    driver = _driver_for(volume)
    try:
        driver.extend(volume.storage_name, new_size)
    except (VolumeDriverError, OSError) as exc:
        log.error("extending %s failed: %s", volume.ec2_id, exc)
        with transaction.atomic():
            if transition(Volume, volume.pk, (states.EXTENDING,), states.ERROR_EXTENDING,
                          error_message=_message(exc)):
                give_back(volume.project_id, with_type({"gigabytes": new_size - volume.size},
                                                       volume_service.type_name(volume)))
                messages.record(volume.project_id, messages.VOLUME, volume.uuid, messages.EXTEND_VOLUME,
                                messages.DRIVER_FAILED_EXTEND)
        return states.ERROR_EXTENDING
    transition(Volume, volume.pk, (states.EXTENDING,), states.AVAILABLE, size=new_size)
    _report(volume.host, driver)
    return states.AVAILABLE


def create_snapshot(snapshot_id: int) -> str:
    snapshot = Snapshot.objects.select_related("volume").filter(pk=snapshot_id).first()
    if snapshot is None or snapshot.status != states.CREATING:
        return "skipped"
    driver = _driver_for(snapshot)
    try:
        driver.create_snapshot(snapshot.storage_name, snapshot.volume.storage_name, snapshot.size)
    except (VolumeDriverError, OSError) as exc:
        log.error("snapshot %s of %s failed: %s", snapshot.ec2_id, snapshot.volume.ec2_id, exc)
        if transition(Snapshot, snapshot.pk, (states.CREATING,), states.ERROR, error_message=_message(exc)):
            messages.record(snapshot.project_id, messages.SNAPSHOT, snapshot.uuid, messages.SNAPSHOT_CREATE,
                            messages.UNKNOWN_ERROR)
        return states.ERROR
    transition(Snapshot, snapshot.pk, (states.CREATING,), states.AVAILABLE)
    _report(snapshot.host, driver)
    return states.AVAILABLE


def delete_snapshot(snapshot_id: int) -> str:
    snapshot = Snapshot.objects.select_related("volume").filter(pk=snapshot_id).first()
    if snapshot is None or snapshot.status != states.DELETING:
        return "skipped"
    driver = _driver_for(snapshot)
    try:
        driver.delete_snapshot(snapshot.storage_name)
    except (VolumeDriverError, OSError) as exc:
        log.error("deleting snapshot %s failed: %s", snapshot.ec2_id, exc)
        if transition(Snapshot, snapshot.pk, (states.DELETING,), states.ERROR_DELETING,
                      error_message=_message(exc)):
            messages.record(snapshot.project_id, messages.SNAPSHOT, snapshot.uuid, messages.SNAPSHOT_DELETE,
                            messages.UNKNOWN_ERROR)
        return states.ERROR_DELETING
    snapshot_service.finish_delete(snapshot.pk)
    _report(snapshot.host, driver)
    return states.DELETED


def on_agent_start(host: str) -> VolumeHost | None:
    """An agent reports its storage when it starts and then periodically (volumes/agent_start.py);
    a host that cannot is not schedulable."""
    try:
        return report_capacity(host)
    except VolumeDriverError as exc:
        log.error("volume host %s cannot report its storage (%s); it gets no volumes", host, exc)
        VolumeHost.objects.filter(host=host).delete()
        return None
