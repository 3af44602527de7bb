"""Attaching volumes to servers (Compute's os-volume_attachments) and detaching them.

API side: the volume goes available -> attaching (one conditional UPDATE), an attachment row
records the server, then the server's host attaches the disk (`volumes.attach_on_host` on
compute.<host>, waited for: the API answers with the device) and marks it in-use. Detach
goes in-use -> detaching -> available the same way. A host that fails or does not answer in
time puts the volume back where it was.

When the volume's host is not the server's host, the volume host first exports the volume
over iSCSI (`volumes.export_volume` on volume.<host>, tgt: volumes/drivers/iscsi.py) and the
attachment keeps that connection; releasing the attachment removes the export. With
VOLUME_EXPORT=none such an attach is refused.

A deleted server loses its attachments in the deleting transaction (the domain is gone by
then); its volumes are available again, with their data.
"""
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import CloudError, Conflict, Invalid, NotFound
from cloudproj.host.locks import instance_lock
from compute import states as compute_states

from .. import states
from ..drivers import VolumeDriverError, get_driver
from ..models import Volume, VolumeAttachment
from .volumes import get_volume, transition

log = logging.getLogger(__name__)

ATTACHABLE_VM_STATES = (compute_states.ACTIVE, compute_states.STOPPED, compute_states.PAUSED)


class AttachFailed(CloudError):
    code = 500


def as_dict(attachment: VolumeAttachment) -> dict:
    volume_id = str(attachment.volume.uuid)
    return {"id": volume_id, "volumeId": volume_id, "serverId": str(attachment.instance_uuid),
            "device": attachment.device or None}


def attachments_of(instance):
    return VolumeAttachment.objects.select_related("volume").filter(instance_uuid=instance.uuid,
                                                                    volume__deleted_at__isnull=True)


def get_attachment(instance, volume_id) -> VolumeAttachment:
    attachment = attachments_of(instance).filter(volume__uuid=_uuid_or_404(volume_id)).first()
    if attachment is None:
        raise NotFound(f"Volume {volume_id} is not attached to server {instance.uuid}.")
    return attachment


def _uuid_or_404(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"Volume {value} could not be found.") from None


def _check_instance(instance, action: str) -> None:
    if instance.vm_state not in ATTACHABLE_VM_STATES or instance.task_state or not instance.host:
        raise Conflict(f"Cannot '{action}' instance {instance.uuid} while it is in vm_state {instance.vm_state}"
                       f"{f' and task_state {instance.task_state}' if instance.task_state else ''}.")


def attach(ctx, instance, volume_id, device=None) -> VolumeAttachment:
    _check_instance(instance, "attach_volume")
    volume = get_volume(ctx, volume_id)
    if device is not None and not isinstance(device, str):
        raise Invalid("Invalid input for field/attribute device: must be a string or null.")
    if volume.status != states.AVAILABLE:
        raise Invalid(f"Invalid volume: volume {volume.uuid} status must be 'available'. Currently in "
                      f"'{volume.status}'.")
    remote = volume.host != instance.host
    if remote and settings.VOLUME_EXPORT == "none":
        raise Invalid(f"Invalid volume: volume {volume.uuid} is on volume host {volume.host} and server "
                      f"{instance.uuid} on {instance.host}; exporting volumes to other hosts (iSCSI) is turned "
                      "off on this cloud (VOLUME_EXPORT=none).")
    with transaction.atomic():
        if not transition(Volume, volume.pk, (states.AVAILABLE,), states.ATTACHING):
            raise Invalid(f"Invalid volume: volume {volume.uuid} status must be 'available'.")
        attachment = VolumeAttachment.objects.create(volume=volume, instance_uuid=instance.uuid,
                                                     instance_host=instance.host, device=device or "")
    try:
        if remote:
            connection = rpc.export_volume(volume.host, attachment.id, timeout=settings.VOLUME_ATTACH_TIMEOUT)
            VolumeAttachment.objects.filter(pk=attachment.pk).update(connection=connection)
        rpc.attach_volume_on_host(instance.host, attachment.id, timeout=settings.VOLUME_ATTACH_TIMEOUT)
    except Exception as exc:
        with transaction.atomic():
            if VolumeAttachment.objects.filter(pk=attachment.pk, attached_at__isnull=True).delete()[0] and remote:
                _send_unexport(volume)
            transition(Volume, volume.pk, (states.ATTACHING,), states.AVAILABLE)
        if isinstance(exc, CloudError):
            raise
        raise AttachFailed(f"Attaching volume {volume.uuid} to server {instance.uuid} failed: {exc}") from None
    attachment.refresh_from_db()
    return attachment


def detach(ctx, instance, volume_id) -> None:
    _check_instance(instance, "detach_volume")
    volume = get_volume(ctx, volume_id)
    attachment = get_attachment(instance, volume_id)
    if not transition(Volume, volume.pk, (states.IN_USE,), states.DETACHING):
        volume.refresh_from_db()
        raise Invalid(f"Invalid volume: Unable to detach volume. Volume status must be 'in-use' and "
                      f"attach_status must be 'attached' to detach. Currently: status '{volume.status}'.")
    try:
        rpc.detach_volume_on_host(attachment.instance_host, attachment.id,
                                  timeout=settings.VOLUME_DETACH_TIMEOUT + settings.HOST_CALL_TIMEOUT)
    except Exception as exc:
        transition(Volume, volume.pk, (states.DETACHING,), states.IN_USE)
        if isinstance(exc, (CloudError,)):
            raise
        raise AttachFailed(f"Detaching volume {volume.uuid} from server {instance.uuid} failed: {exc}") from None


# --- on the server's host (compute.<host>) -------------------------------------------------------


def _connection(volume: Volume) -> dict:
    return get_driver(volume.driver or None).connection(volume.storage_name).as_dict()


def _connection_of(attachment: VolumeAttachment) -> dict:
    return attachment.connection or _connection(attachment.volume)


def _send_unexport(volume: Volume) -> None:
    rpc.unexport_volume(volume.host, volume.id)


def export_on_volume_host(attachment_id: int) -> dict:
    """On the volume's host: export it over iSCSI for the server's host; the connection."""
    from ..drivers import get_export

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
    from ..drivers import get_export

    volume = Volume.all_objects.filter(pk=volume_id).first()
    export = get_export()
    if volume is None or export is None or VolumeAttachment.objects.filter(volume=volume).exists():
        return False  # attached again meanwhile: the export is in use
    return export.unexport(volume.storage_name)


def attach_on_host(attachment_id: int) -> str:
    from compute.services import host_resources as hr

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
    from compute.services import host_resources as hr
    from compute.virt.driver import InstanceNotFound

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


def release(attachment: VolumeAttachment) -> None:
    """Forget the attachment; the volume is available again (from any attach state)."""
    with transaction.atomic():
        if VolumeAttachment.objects.filter(pk=attachment.pk).delete()[0] and attachment.connection:
            _send_unexport(attachment.volume)
        transition(Volume, attachment.volume_id, (states.IN_USE, states.ATTACHING, states.DETACHING),
                   states.AVAILABLE)


def on_instance_deleted(instance) -> int:
    rows = list(VolumeAttachment.objects.filter(instance_uuid=instance.uuid))
    for attachment in rows:
        release(attachment)
    return len(rows)


def reattach(volume: Volume) -> str:
    """The seeds' `nova-manage volume reattach`: attach an in-use volume to its server again
    (after its host rebooted, or a hard reboot rebuilt the domain); the same device when free."""
    attachment = VolumeAttachment.objects.filter(volume=volume).first()
    if attachment is None or volume.status != states.IN_USE:
        raise Invalid(f"Volume {volume.ec2_id} is {volume.status}, not attached to a server.")
    return rpc.attach_volume_on_host(attachment.instance_host, attachment.id,
                                     timeout=settings.VOLUME_ATTACH_TIMEOUT)


def disks_of_instance(instance) -> list:
    """The attached volumes a server's domain must have when it is (re)defined from its spec
    (hard reboot, start, rebuild): host_hooks' extra_disks."""
    disks = []
    for attachment in VolumeAttachment.objects.select_related("volume").filter(
            instance_uuid=instance.uuid, attached_at__isnull=False).exclude(device=""):
        try:
            connection = _connection_of(attachment)
        except VolumeDriverError as exc:
            log.error("volume %s of %s is missing on this host (%s); the domain goes without it",
                      attachment.volume.ec2_id, instance.uuid, exc)
            continue
        disks.append({**connection, "target": attachment.device.removeprefix("/dev/"),
                      "serial": str(attachment.volume.uuid)[:20]})
    return disks


def volumes_by_instance(instances) -> dict:
    """{instance uuid: [volume id, ...]} of the servers' attached volumes (one query): what a
    server's `os-extended-volumes:volumes_attached` shows (registered into compute.api.server_view)."""
    result: dict = {}
    rows = VolumeAttachment.objects.filter(instance_uuid__in=[i.uuid for i in instances]).order_by("id")
    for instance_uuid, volume_uuid in rows.values_list("instance_uuid", "volume__uuid"):
        result.setdefault(instance_uuid, []).append(str(volume_uuid))
    return result
