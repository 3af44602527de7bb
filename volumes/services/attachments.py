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

What the hosts do (attach/detach the disk, export it) is in volumes.services.attachments_host,
which only the agents' tasks import.
"""
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import CloudError, Conflict, Invalid, NotFound
from compute import states as compute_states
from compute.models import Instance

from .. import states
from ..models import Volume, VolumeAttachment
from . import boot
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
    """The server's attachments the Compute API shows (not the Block Storage API's os-attach records)."""
    return VolumeAttachment.objects.select_related("volume").filter(instance_uuid=instance.uuid, external=False,
                                                                    volume__deleted_at__isnull=True)


def get_attachment(instance, volume_id) -> VolumeAttachment:
    attachment = attachments_of(instance).filter(volume__uuid=_uuid_or_404(volume_id)).first()
    if attachment is None:
        raise NotFound(f"Volume {volume_id} is not attached to server {instance.uuid}.")
    return attachment


def _uuid_or_404(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"Volume {value} could not be found.") from None


def _check_instance(instance, action: str) -> None:
    if instance.vm_state not in ATTACHABLE_VM_STATES or instance.task_state or not instance.host:
        raise Conflict(f"Cannot '{action}' instance {instance.uuid} while it is in vm_state {instance.vm_state}"
                       f"{f' and task_state {instance.task_state}' if instance.task_state else ''}.")


def validate_tag(tag) -> str | None:
    """Nova's device tag: up to 60 characters, no '/' nor ','; None for none."""
    if tag is not None and (not isinstance(tag, str) or not 1 <= len(tag) <= 60 or "/" in tag or "," in tag):
        raise Invalid("Invalid input for field/attribute tag: a string of 1 to 60 characters without '/' or ','.")
    return tag


def attach(ctx, instance, volume_id, device=None, tag=None, delete_on_termination=False) -> VolumeAttachment:
    """The volume attached to the server; `tag` and `delete_on_termination` (the volume goes
    with the server) are kept with the attachment."""
    _check_instance(instance, "attach_volume")
    volume = get_volume(ctx, volume_id)
    if device is not None and not isinstance(device, str):
        raise Invalid("Invalid input for field/attribute device: must be a string or null.")
    tag = validate_tag(tag)
    if volume.status != states.AVAILABLE:
        raise Invalid(f"Invalid volume: volume {volume.uuid} status must be 'available'. Currently in "
                      f"'{volume.status}'.")
    remote = volume.host != instance.host
    if remote and settings.VOLUME_EXPORT == "none":
        raise Invalid(f"Invalid volume: volume {volume.uuid} is on volume host {volume.host} and server "
                      f"{instance.uuid} on {instance.host}; exporting volumes to other hosts (iSCSI) is turned "
                      "off on this cloud (VOLUME_EXPORT=none).")
    with transaction.atomic():
        if not transition(Volume, volume.pk, (states.AVAILABLE,), states.ATTACHING) or \
                VolumeAttachment.objects.filter(volume=volume).exists():
            raise Invalid(f"Invalid volume: volume {volume.uuid} status must be 'available'.")
        attachment = VolumeAttachment.objects.create(volume=volume, instance_uuid=instance.uuid,
                                                     instance_host=instance.host, device=device or "", tag=tag,
                                                     delete_on_termination=bool(delete_on_termination))
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
    if attachment.boot_index == 0:
        raise Invalid(f"Cannot detach the root volume {volume.uuid} of server {instance.uuid}: it boots from it.")
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


def _send_unexport(volume: Volume) -> None:
    rpc.unexport_volume(volume.host, volume.id)


def release(attachment: VolumeAttachment) -> None:
    """Forget the attachment; the volume is available again (from any attach state)."""
    with transaction.atomic():
        if VolumeAttachment.objects.filter(pk=attachment.pk).delete()[0] and attachment.connection:
            _send_unexport(attachment.volume)
        transition(Volume, attachment.volume_id, (states.IN_USE, states.ATTACHING, states.DETACHING),
                   states.AVAILABLE)


def on_instance_deleted(instance) -> int:
    """The deleted server's volumes detached; those attached with delete_on_termination (its root
    volume when it asked so, others attached so from compute API 2.79) deleted too."""
    rows = list(VolumeAttachment.objects.filter(instance_uuid=instance.uuid))
    for attachment in rows:
        release(attachment)
        if attachment.delete_on_termination:
            boot.delete_on_termination(None, attachment.volume_id)
    return len(rows)


def reattach(volume: Volume) -> str:
    """The seeds' `nova-manage volume reattach`: attach an in-use volume to its server again
    (after its host rebooted, or a hard reboot rebuilt the domain); the same device when free."""
    attachment = VolumeAttachment.objects.filter(volume=volume, external=False).first()
    if attachment is None or volume.status != states.IN_USE:
        raise Invalid(f"Volume {volume.ec2_id} is {volume.status}, not attached to a server.")
    return rpc.attach_volume_on_host(attachment.instance_host, attachment.id,
                                     timeout=settings.VOLUME_ATTACH_TIMEOUT)


def volumes_by_instance(instances) -> dict:
    """{instance uuid: [(volume id, delete_on_termination), ...]} of the servers' attached
    volumes (one query): what a server's `os-extended-volumes:volumes_attached` shows
    (registered into compute.api.server_view). Only a root volume is ever deleted with its server."""
    result: dict = {}
    rows = VolumeAttachment.objects.filter(instance_uuid__in=[i.uuid for i in instances],
                                           external=False).order_by("id")
    for instance_uuid, volume_uuid, delete in rows.values_list("instance_uuid", "volume__uuid",
                                                               "delete_on_termination"):
        result.setdefault(instance_uuid, []).append((str(volume_uuid), delete))
    return result


# Cinder's volume actions for an attacher that connects the volume itself (Nova calls them in
# Cinder's clouds; tempest calls them directly). They only record: os-reserve/os-unreserve
# (available <-> attaching), os-begin_detaching/os-roll_detaching (in-use <-> detaching),
# os-attach (an `external` attachment: the volume is in-use for that server, but no disk was
# added to it, so the Compute API neither lists nor detaches it), os-detach and os-force_detach
# (forget such a record). An attachment the Compute API made is detached there: these refuse it
# (as Cinder since bug #2004555), so a guest never loses a disk it holds behind Compute's back.

def reserve(volume: Volume) -> None:
    if not transition(Volume, volume.pk, (states.AVAILABLE,), states.ATTACHING):
        volume.refresh_from_db()
        raise Invalid(f"Invalid volume: Volume {volume.uuid} status must be available to reserve, but the "
                      f"status is {volume.status}.")


def unreserve(volume: Volume) -> None:
    with transaction.atomic():
        if VolumeAttachment.objects.filter(volume=volume).exists():
            raise Invalid(f"Invalid volume: Volume {volume.uuid} has an attachment; detach it instead.")
        if not transition(Volume, volume.pk, (states.ATTACHING,), states.AVAILABLE):
            volume.refresh_from_db()
            raise Invalid(f"Invalid volume: Volume {volume.uuid} status must be attaching to unreserve, but the "
                          f"status is {volume.status}.")


def begin_detaching(volume: Volume) -> None:
    if not transition(Volume, volume.pk, (states.IN_USE,), states.DETACHING):
        volume.refresh_from_db()
        raise Invalid(f"Invalid volume: Volume {volume.uuid} status must be in-use to begin detaching, but the "
                      f"status is {volume.status}.")


def roll_detaching(volume: Volume) -> None:
    """Back to in-use from detaching (a detach given up); any other status is left as it is (Cinder)."""
    transition(Volume, volume.pk, (states.DETACHING,), states.IN_USE)


def record_attach(ctx, volume: Volume, instance_uuid, mountpoint) -> VolumeAttachment:
    """os-attach: the volume is in-use for the server (one of the caller's project, or any for
    admins) at `mountpoint`; from available, or attaching after os-reserve."""
    try:
        server_uuid = uuid.UUID(str(instance_uuid))
    except ValueError:
        raise Invalid(f"Invalid input received: instance_uuid {instance_uuid!r} is not a UUID.") from None
    if mountpoint is None or not isinstance(mountpoint, str) or not mountpoint.startswith("/dev/") \
            or len(mountpoint) > 32 or not mountpoint[5:].replace("/", "").isalnum():
        raise Invalid("Invalid input received: mountpoint must be a device path such as /dev/vdb.")
    instance = Instance.objects.filter(uuid=server_uuid).first()
    if instance is None or (not ctx.is_admin and instance.project_id != ctx.project_id):
        raise NotFound(f"Server {instance_uuid} could not be found.")
    with transaction.atomic():
        locked = Volume.objects.select_for_update().get(pk=volume.pk)
        if locked.status not in (states.AVAILABLE, states.ATTACHING) or \
                VolumeAttachment.objects.filter(volume=locked).exists():
            raise Invalid(f"Invalid volume: Volume {volume.uuid} status must be available or attaching, but the "
                          f"status is {locked.status}.")
        attachment = VolumeAttachment.objects.create(
            volume=locked, instance_uuid=instance.uuid, instance_host=instance.host or "", device=mountpoint,
            external=True, attached_at=timezone.now())
        transition(Volume, locked.pk, (states.AVAILABLE, states.ATTACHING), states.IN_USE)
    return attachment


def _external_attachment(volume: Volume, attachment_id) -> VolumeAttachment:
    attachment = VolumeAttachment.objects.select_related("volume").filter(volume=volume).first()
    if attachment is None or (attachment_id is not None and str(attachment.uuid) != str(attachment_id)):
        raise Invalid(f"Invalid volume: Volume {volume.uuid} has no attachment {attachment_id or ''}".rstrip()
                      + ".")
    if not attachment.external:
        raise Conflict(f"Volume {volume.uuid} is attached to server {attachment.instance_uuid} through the "
                       f"Compute API; detach it there (DELETE /servers/{{id}}/os-volume_attachments/{{id}}).")
    return attachment


def record_detach(volume: Volume, attachment_id=None) -> None:
    """os-detach: forget the os-attach record; the volume is available again. An available
    volume without any attachment is already detached: nothing to do (Cinder)."""
    if volume.status == states.AVAILABLE and attachment_id is None and \
            not VolumeAttachment.objects.filter(volume=volume).exists():
        return
    if volume.status not in (states.IN_USE, states.DETACHING):
        raise Invalid(f"Invalid volume: Unable to detach volume. Volume status must be 'in-use' and "
                      f"attach_status must be 'attached' to detach. Currently: status '{volume.status}'.")
    release(_external_attachment(volume, attachment_id))


def force_detach(volume: Volume, attachment_id=None) -> None:
    """os-force_detach (admins): forget the os-attach record whatever the volume's status."""
    attachment = _external_attachment(volume, attachment_id)
    with transaction.atomic():
        VolumeAttachment.objects.filter(pk=attachment.pk).delete()
        Volume.objects.filter(pk=volume.pk).update(status=states.AVAILABLE, updated_at=timezone.now())
