"""Boot from volume, the API side (block_device_mapping_v2 with destination_type volume):
the server's root volume is reserved, or created from the image, in the transaction that
creates the server. Its boot attachment (boot_index 0, device /dev/vda) is recorded at once;
the server's host attaches it in the build's disk step (volumes.services.boot_host).

A volume created from an image for a server becomes `attaching` when its host has written it,
never `available`: nobody else can take or delete it in between.
"""
import logging

from cloudproj.exceptions import Conflict, Invalid, NotFound

from .. import states
from ..models import Volume, VolumeAttachment
from .volumes import create_volume, delete_volume, get_volume, transition

log = logging.getLogger(__name__)

ROOT_DEVICE = "/dev/vda"


def source_image(ctx, request: dict) -> dict | None:
    """What a server booting from an existing volume knows of its image (the volume's
    `volume_image_metadata`: kernel, ramdisk, properties); None when not booting from one."""
    if not request or request.get("source") != "volume":
        return None
    volume = _existing(ctx, request["uuid"])
    return dict(volume.image_metadata or {})


def _existing(ctx, volume_id) -> Volume:
    try:
        return get_volume(ctx, volume_id)
    except NotFound:
        raise Invalid(f"Block Device Mapping is Invalid: failed to get volume {volume_id}.") from None


def reserve_for(ctx, instances: list, request: dict) -> list[Volume]:
    """The root volume of each new server (inside the create transaction): the existing volume
    reserved (available -> attaching), or a volume created from the image per server."""
    if request["source"] == "volume":
        if len(instances) != 1:
            raise Invalid("Cannot attach one or more volumes to multiple instances.")
        volume = _existing(ctx, request["uuid"])
        if not transition(Volume, volume.pk, (states.AVAILABLE,), states.ATTACHING):
            volume.refresh_from_db()
            raise Invalid(f"Invalid volume: volume {volume.uuid} status must be 'available'. Currently in "
                          f"'{volume.status}'.")
        volumes = [volume]
    else:
        volumes = [create_volume(ctx, request["volume_size"], name=f"{instance.display_name}-root"[:255],
                                 image_ref=request["uuid"], volume_type=request.get("volume_type"))
                   for instance in instances]
        for volume in volumes:
            if volume.status == states.ERROR:  # no volume host can hold it: the create is refused
                raise Conflict(f"No volume host can hold the {volume.size} GiB root volume: "
                               f"{volume.error_message}")
    for instance, volume in zip(instances, volumes):
        VolumeAttachment.objects.create(volume=volume, instance_uuid=instance.uuid, instance_host="",
                                        device=ROOT_DEVICE, boot_index=0,
                                        delete_on_termination=request["delete_on_termination"])
    return volumes


def is_boot_attachment(attachment: VolumeAttachment) -> bool:
    return attachment.boot_index == 0


def boots_from_volume(instance) -> bool:
    return VolumeAttachment.objects.filter(instance_uuid=instance.uuid, boot_index=0).exists()


def delete_on_termination(ctx, volume_pk: int) -> None:
    """The server that booted from this volume is gone and asked for it to go too."""
    volume = Volume.objects.filter(pk=volume_pk).first()
    if volume is None:
        return
    try:
        delete_volume(ctx, volume)
    except (Invalid, Conflict) as exc:  # the volume stays (as in Nova): the user sees and deletes it
        log.warning("root volume %s of a deleted server kept: %s", volume.uuid, exc)
    else:
        log.info("root volume %s deleted with its server (delete_on_termination)", volume.uuid)
