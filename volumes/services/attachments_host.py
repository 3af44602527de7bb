"""Volume attachments, the host side (tasks on compute.<host> and volume.<host>): the
server's host attaches and detaches the disk, the volume's host exports it over iSCSI when
the server runs elsewhere, and a domain (re)defined from its spec gets its attached volumes
(disks_of_instance, the `extra_disks` host hook). The API side is volumes.services.attachments.
"""
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudproj.exceptions import Invalid
from cloudproj.host.locks import instance_lock
from compute.services import host_resources as hr
from compute.virt.driver import InstanceNotFound

from .. import states
from ..drivers import VolumeDriverError, get_driver, get_export
from ..models import Volume, VolumeAttachment
from .attachments import release
from .volumes import transition

log = logging.getLogger(__name__)


def _connection(volume: Volume) -> dict:
    return get_driver(volume.driver or None).connection(volume.storage_name).as_dict()


def _connection_of(attachment: VolumeAttachment) -> dict:
    connection = attachment.connection or _connection(attachment.volume)
    if attachment.attach_mode == "ro":
        connection = {**connection, "readonly": True}  # the disk's <readonly/>
    return connection


def export_on_volume_host(attachment_id: int) -> dict:
    """On the volume's host: export it over iSCSI for the server's host; the connection."""
    attachment = VolumeAttachment.objects.select_related("volume").filter(pk=attachment_id).first()
    if attachment is None:
        raise Invalid(f"Attachment {attachment_id} is gone (the request was given up).")
    volume = attachment.volume
    export = get_export()
    if export is None:
        raise Invalid("Exporting volumes over iSCSI is turned off on this host (VOLUME_EXPORT=none).")
    try:
        local = get_driver(volume.driver or None).connection(volume.storage_name)
        connection = export.export(volume.storage_name, local.path).as_dict()
    except VolumeDriverError as exc:
        raise Invalid(f"Volume {volume.uuid} cannot be exported from {volume.host}: {exc}") from None
    log.info("volume %s exported over iSCSI for %s: %s", volume.ec2_id, attachment.instance_host, connection["path"])
    return connection


def unexport_on_volume_host(volume_id: int) -> bool:
    volume = Volume.all_objects.filter(pk=volume_id).first()
    export = get_export()
    if volume is None or export is None or VolumeAttachment.objects.filter(volume=volume).exists():
        return False  # attached again meanwhile: the export is in use
    return export.unexport(volume.storage_name)


def attach_on_host(attachment_id: int) -> str:
    attachment = VolumeAttachment.objects.select_related("volume").filter(pk=attachment_id).first()
    if attachment is None:
        raise Invalid(f"Attachment {attachment_id} is gone (the request was given up).")
    volume = attachment.volume
    try:
        connection = _connection_of(attachment)
    except VolumeDriverError as exc:
        raise Invalid(f"Volume {volume.uuid} cannot be attached on {attachment.instance_host}: {exc}") from None
    with instance_lock(attachment.instance_uuid):
        target = hr.driver().attach_volume(str(attachment.instance_uuid), connection, serial=str(volume.uuid)[:20],
                                           device=attachment.device or None)
    with transaction.atomic():
        VolumeAttachment.objects.filter(pk=attachment.pk).update(device=f"/dev/{target}", attached_at=timezone.now())
        transition(Volume, volume.pk, (states.ATTACHING,), states.IN_USE)
    log.info("volume %s attached to %s as /dev/%s", volume.ec2_id, attachment.instance_uuid, target)
    return f"/dev/{target}"


def detach_on_host(attachment_id: int) -> bool:
    attachment = VolumeAttachment.objects.select_related("volume").filter(pk=attachment_id).first()
    if attachment is None:
        return False
    volume = attachment.volume
    path = None
    try:
        connection = _connection_of(attachment)
        path = connection["path"]
    except VolumeDriverError:
        log.warning("volume %s has no storage on this host; only the attachment is removed", volume.ec2_id)
    if path is not None:
        with instance_lock(attachment.instance_uuid):
            try:
                hr.driver().detach_volume(str(attachment.instance_uuid), connection,
                                          timeout=settings.VOLUME_DETACH_TIMEOUT)
            except InstanceNotFound:
                pass  # the domain is gone: nothing holds the volume any more
    release(attachment)
    log.info("volume %s detached from %s", volume.ec2_id, attachment.instance_uuid)
    return True


def _bind_pending(instance, rows: list) -> None:
    """Volumes attached while the server was shelved-offloaded (2.20: recorded, no host, no
    device) are bound to the host the server now runs on, each on the next free device. Only
    volumes of this host: one on another volume host stays recorded without a disk (logged)."""
    used = {row.device for row in rows if row.device}
    free = (f"/dev/vd{letter}" for letter in "bcdefghijklmnopqrstuvwxyz" if f"/dev/vd{letter}" not in used)
    for attachment in rows:
        if attachment.instance_host or not instance.host:
            continue
        if attachment.volume.host != instance.host:
            log.error("volume %s attached to shelved %s is on %s, not on %s: not attached to the domain",
                      attachment.volume.ec2_id, instance.uuid, attachment.volume.host, instance.host)
            continue
        attachment.instance_host, attachment.device, attachment.attached_at = instance.host, next(free), timezone.now()
        VolumeAttachment.objects.filter(pk=attachment.pk, instance_host="").update(
            instance_host=attachment.instance_host, device=attachment.device, attached_at=attachment.attached_at)


def disks_of_instance(instance) -> list:
    """The attached volumes a server's domain must have when it is (re)defined from its spec
    (hard reboot, start, rebuild, unshelve): host_hooks' extra_disks."""
    rows = list(VolumeAttachment.objects.select_related("volume").filter(
        instance_uuid=instance.uuid, attached_at__isnull=False, external=False, boot_index__isnull=True,
    ).order_by("id"))
    _bind_pending(instance, rows)
    disks = []
    for attachment in rows:
        if not attachment.device:
            continue
        try:
            connection = _connection_of(attachment)
        except VolumeDriverError as exc:
            log.error("volume %s of %s is missing on this host (%s); the domain goes without it",
                      attachment.volume.ec2_id, instance.uuid, exc)
            continue
        disks.append({**connection, "target": attachment.device.removeprefix("/dev/"),
                      "serial": str(attachment.volume.uuid)[:20]})
    return disks
