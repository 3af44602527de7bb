"""Boot from volume, the host side: the root volume of a server attached by the server's host
in the build's disk step (the `root_volume` host hook; the API side is volumes.services.boot).

The step waits for a volume created from the image to be written (BOOT_VOLUME_TIMEOUT), then
records the attachment on this host and the volume `in-use`. The volume is local to this host,
or another host's volume exported over iSCSI (as an attached volume is).
"""
import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import Invalid

from .. import states
from ..drivers import VolumeDriverError, get_driver
from ..models import Volume, VolumeAttachment
from .volumes import transition

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
READY = (states.ATTACHING, states.IN_USE)


def _boot_attachment(instance) -> VolumeAttachment | None:
    return VolumeAttachment.objects.select_related("volume").filter(instance_uuid=instance.uuid,
                                                                    boot_index=0).first()


def root_volume(instance, prepare: bool = False) -> dict | None:
    """The root disk of a server booting from a volume ({"kind", "path", "format", "target",
    "serial"}), None for any other server. prepare: wait until the volume is written, attach it
    here (the build's disk step; a re-delivered step finds it attached)."""
    attachment = _boot_attachment(instance)
    if attachment is None:
        return None
    if prepare:
        attachment = _attach_here(attachment, instance.host)
    volume = attachment.volume
    try:
        connection = attachment.connection or get_driver(volume.driver or None).connection(volume.storage_name).as_dict()
    except VolumeDriverError as exc:
        raise Invalid(f"The root volume {volume.uuid} of server {instance.uuid} cannot be reached: {exc}") from None
    return {**connection, "target": "vda", "serial": str(volume.uuid)[:20]}


def _wait_until_written(volume: Volume) -> Volume:
    deadline = time.monotonic() + settings.BOOT_VOLUME_TIMEOUT
    while volume.status == states.CREATING and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        volume.refresh_from_db()
    if volume.status == states.CREATING:
        raise Invalid(f"The root volume {volume.uuid} is still being written after "
                      f"{settings.BOOT_VOLUME_TIMEOUT:g}s (BOOT_VOLUME_TIMEOUT).")
    if volume.status not in READY:
        detail = f": {volume.error_message}" if volume.error_message else ""
        raise Invalid(f"The root volume {volume.uuid} did not become ready (status {volume.status}{detail}).")
    return volume


def _attach_here(attachment: VolumeAttachment, host: str) -> VolumeAttachment:
    volume = _wait_until_written(attachment.volume)
    if attachment.instance_host != host:
        connection: dict = {}
        if volume.host != host:
            if settings.VOLUME_EXPORT == "none":
                raise Invalid(f"The root volume {volume.uuid} is on volume host {volume.host}; exporting volumes "
                              "to other hosts (iSCSI) is turned off on this cloud (VOLUME_EXPORT=none).")
            connection = rpc.export_volume(volume.host, attachment.id, timeout=settings.VOLUME_ATTACH_TIMEOUT)
        VolumeAttachment.objects.filter(pk=attachment.pk).update(instance_host=host, connection=connection)
    with transaction.atomic():
        VolumeAttachment.objects.filter(pk=attachment.pk, attached_at__isnull=True).update(attached_at=timezone.now())
        transition(Volume, volume.pk, (states.ATTACHING,), states.IN_USE)
    attachment.refresh_from_db()
    log.info("root volume %s of %s attached on %s", volume.ec2_id, attachment.instance_uuid, host)
    return attachment
