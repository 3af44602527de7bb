"""Volumes and snapshots: Create/Describe/Attach/Detach/DeleteVolume and
Create/Describe/DeleteSnapshot over volumes.services (the same volumes, quota and volume hosts
as the Block Storage API and the compute API's os-volume_attachments)."""
from compute.models import Instance
from cloudproj.exceptions import CloudError
from ec2.services import filters, ids
from ec2.services.errors import Ec2Error, from_cloud_error
from ec2.services.params import Params
from identity.services.policy import enforce
from volumes import states
from volumes.models import Snapshot, Volume, VolumeAttachment
from volumes.services import attachments
from volumes.services import snapshots as snapshot_service
from volumes.services import volumes as volume_service

from .instances import get as get_instance

VOLUME_STATES = {states.CREATING: "creating", states.AVAILABLE: "available", states.ATTACHING: "in-use",
                 states.IN_USE: "in-use", states.DETACHING: "in-use", states.DELETING: "deleting",
                 states.EXTENDING: "available", states.ERROR: "error", states.ERROR_DELETING: "error",
                 states.ERROR_EXTENDING: "error", states.DELETED: "deleted"}
ATTACH_STATES = {states.ATTACHING: "attaching", states.IN_USE: "attached", states.DETACHING: "detaching"}
SNAPSHOT_STATES = {states.CREATING: "pending", states.AVAILABLE: "completed", states.DELETING: "pending",
                   states.ERROR: "error", states.ERROR_DELETING: "error"}


def _volume(ctx, value) -> Volume:
    row = Volume.objects.filter(pk=ids.key_of(value, "vol"), project_id=ctx.project_id).first()
    if row is None:
        raise Ec2Error("InvalidVolume.NotFound", f"The volume '{value}' does not exist.")
    return row


def _snapshot(ctx, value) -> Snapshot:
    row = Snapshot.objects.filter(pk=ids.key_of(value, "snap"), project_id=ctx.project_id).first()
    if row is None:
        raise Ec2Error("InvalidSnapshot.NotFound", f"The snapshot '{value}' does not exist.")
    return row


def _volume_item(volume: Volume, attachment: VolumeAttachment | None, instance_ids: dict) -> dict:
    attached = []
    if attachment is not None:
        attached.append({
            "volumeId": ids.ec2_id("vol", volume.pk), "instanceId": instance_ids.get(attachment.instance_uuid, ""),
            "device": attachment.device, "status": ATTACH_STATES.get(volume.status, "attached"),
            "attachTime": attachment.attached_at or attachment.created_at, "deleteOnTermination": False,
        })
    return {
        "volumeId": ids.ec2_id("vol", volume.pk), "size": volume.size,
        "snapshotId": ids.ec2_id("snap", volume.snapshot_id) if volume.snapshot_id else "",
        "availabilityZone": volume.availability_zone, "status": VOLUME_STATES.get(volume.status, volume.status),
        "createTime": volume.created_at, "attachmentSet": attached, "volumeType": "standard", "encrypted": False,
        "multiAttachEnabled": False, "tagSet": filters.tag_set(volume.metadata),
    }


def _render_volumes(rows) -> list[dict]:
    by_volume = {a.volume_id: a for a in VolumeAttachment.objects.filter(volume__in=rows)}
    instance_ids = {i.uuid: i.ec2_id for i in Instance.all_objects.filter(
        uuid__in=[a.instance_uuid for a in by_volume.values()])}
    return [_volume_item(v, by_volume.get(v.pk), instance_ids) for v in rows]


def create_volume(ctx, p: Params) -> dict:
    size = p.integer("Size", minimum=1, maximum=16384)
    snapshot_id = p.text("SnapshotId", max_length=64)
    zone = p.text("AvailabilityZone")
    p.text("VolumeType", choices=("standard", "gp2", "gp3", "io1", "io2", "sc1", "st1"))
    p.flag("Encrypted")
    snapshot = _snapshot(ctx, snapshot_id) if snapshot_id else None
    if size is None and snapshot is None:
        raise Ec2Error("MissingParameter", "The request must contain the parameter size or snapshotId")
    tags = {}
    for spec in p.structs("TagSpecification"):
        if spec.text("ResourceType", required=True) == "volume":
            for tag in spec.structs("Tag"):
                tags[tag.text("Key", required=True, max_length=127)] = tag.text("Value", default="", max_length=255)
    enforce(ctx, "volume:create", {"project_id": ctx.project_id})
    try:
        volume = volume_service.create_volume(ctx, size if size is not None or snapshot is None else snapshot.size,
                                              name=tags.get("Name"),
                                              availability_zone=zone, metadata=tags or None,
                                              snapshot_id=str(snapshot.uuid) if snapshot else None)
    except CloudError as exc:
        if "quota" in exc.message.lower() or "exceeded" in exc.message.lower():
            raise Ec2Error("VolumeLimitExceeded", exc.message) from None
        raise from_cloud_error(exc) from None
    return _render_volumes([volume])[0]


def describe_volumes(ctx, p: Params) -> dict:
    enforce(ctx, "volume:get_all", {"project_id": ctx.project_id})
    rows = list(Volume.objects.filter(project_id=ctx.project_id).order_by("created_at", "id"))
    wanted = p.values("VolumeId", max_length=64)
    p.integer("MaxResults", minimum=5, maximum=1000)
    p.text("NextToken", max_length=1024)
    if wanted:
        rows = [_volume(ctx, v) for v in dict.fromkeys(wanted)]
    items = _render_volumes(rows)
    requested = p.filters()
    if requested:
        items = filters.apply(items, requested, {
            "volume-id": lambda v: v["volumeId"], "status": lambda v: v["status"], "size": lambda v: str(v["size"]),
            "availability-zone": lambda v: v["availabilityZone"], "snapshot-id": lambda v: v["snapshotId"],
            "attachment.instance-id": lambda v: [a["instanceId"] for a in v["attachmentSet"]],
            "attachment.status": lambda v: [a["status"] for a in v["attachmentSet"]],
        }, tags=lambda v: {t["key"]: t["value"] for t in v["tagSet"]})
    return {"volumeSet": items}


def delete_volume(ctx, p: Params) -> dict:
    volume = _volume(ctx, p.text("VolumeId", required=True, max_length=64))
    enforce(ctx, "volume:delete", {"project_id": volume.project_id})
    if volume.status in (states.IN_USE, states.ATTACHING, states.DETACHING):
        raise Ec2Error("VolumeInUse", f"Volume {ids.ec2_id('vol', volume.pk)} is currently attached.")
    try:
        volume_service.delete_volume(ctx, volume)
    except CloudError as exc:
        raise Ec2Error("IncorrectState", exc.message) from None
    return {"return": True}


def attach_volume(ctx, p: Params) -> dict:
    volume = _volume(ctx, p.text("VolumeId", required=True, max_length=64))
    instance = get_instance(ctx, p.text("InstanceId", required=True, max_length=64))
    device = p.text("Device", required=True, max_length=32)
    enforce(ctx, "compute:os-volumes-attachments:create", {"project_id": instance.project_id})
    if volume.status != states.AVAILABLE:
        raise Ec2Error("IncorrectState", f"vol-{volume.pk:08x} is not 'available' (it is '{volume.status}').")
    try:
        attachment = attachments.attach(ctx, instance, str(volume.uuid), device=None)
    except CloudError as exc:
        if exc.code == 409:
            raise Ec2Error("IncorrectInstanceState", exc.message) from None
        raise from_cloud_error(exc, "InvalidVolume.NotFound") from None
    volume.refresh_from_db()
    return {"volumeId": ids.ec2_id("vol", volume.pk), "instanceId": instance.ec2_id,
            "device": attachment.device or device, "status": ATTACH_STATES.get(volume.status, "attached"),
            "attachTime": attachment.attached_at or attachment.created_at}


def detach_volume(ctx, p: Params) -> dict:
    volume = _volume(ctx, p.text("VolumeId", required=True, max_length=64))
    p.text("Device", max_length=32)
    p.flag("Force")
    attachment = VolumeAttachment.objects.filter(volume=volume).first()
    if attachment is None:
        raise Ec2Error("IncorrectState", f"Volume {ids.ec2_id('vol', volume.pk)} is not attached.")
    instance = Instance.objects.filter(uuid=attachment.instance_uuid, project_id=ctx.project_id).first()
    wanted = p.text("InstanceId", max_length=64)
    if instance is None or (wanted is not None and wanted != instance.ec2_id):
        raise Ec2Error("IncorrectState", f"Volume {ids.ec2_id('vol', volume.pk)} is not attached to {wanted}.")
    enforce(ctx, "compute:os-volumes-attachments:delete", {"project_id": instance.project_id})
    try:
        attachments.detach(ctx, instance, str(volume.uuid))
    except CloudError as exc:
        raise Ec2Error("IncorrectState", exc.message) from None
    volume.refresh_from_db()
    return {"volumeId": ids.ec2_id("vol", volume.pk), "instanceId": instance.ec2_id, "device": attachment.device,
            "status": ATTACH_STATES.get(volume.status, "detached"), "attachTime": attachment.attached_at}


def _snapshot_item(snapshot: Snapshot) -> dict:
    return {
        "snapshotId": ids.ec2_id("snap", snapshot.pk), "volumeId": ids.ec2_id("vol", snapshot.volume_id),
        "status": SNAPSHOT_STATES.get(snapshot.status, snapshot.status), "startTime": snapshot.created_at,
        "progress": "100%" if snapshot.status == states.AVAILABLE else "0%", "ownerId": snapshot.project_id,
        "volumeSize": snapshot.size, "description": snapshot.description, "encrypted": False, "tagSet": [],
    }


def create_snapshot(ctx, p: Params) -> dict:
    volume = _volume(ctx, p.text("VolumeId", required=True, max_length=64))
    description = p.text("Description")
    enforce(ctx, "volume:snapshots:create", {"project_id": volume.project_id})
    try:
        snapshot = snapshot_service.create_snapshot(ctx, volume, description=description, force=True)
    except CloudError as exc:
        if "quota" in exc.message.lower() or "exceeded" in exc.message.lower():
            raise Ec2Error("SnapshotLimitExceeded", exc.message) from None
        raise Ec2Error("IncorrectState", exc.message) from None
    return _snapshot_item(snapshot)


def describe_snapshots(ctx, p: Params) -> dict:
    enforce(ctx, "volume:snapshots:get_all", {"project_id": ctx.project_id})
    rows = list(Snapshot.objects.filter(project_id=ctx.project_id).order_by("created_at", "id"))
    wanted = p.values("SnapshotId", max_length=64)
    owners = p.values("Owner")
    p.values("RestorableBy")
    p.integer("MaxResults", minimum=5, maximum=1000)
    p.text("NextToken", max_length=1024)
    if wanted:
        rows = [_snapshot(ctx, v) for v in dict.fromkeys(wanted)]
    if owners:
        owner_ids = {ctx.project_id if o == "self" else o for o in owners}
        rows = [s for s in rows if s.project_id in owner_ids]
    items = [_snapshot_item(s) for s in rows]
    requested = p.filters()
    if requested:
        items = filters.apply(items, requested, {
            "snapshot-id": lambda s: s["snapshotId"], "volume-id": lambda s: s["volumeId"],
            "status": lambda s: s["status"], "owner-id": lambda s: s["ownerId"],
            "description": lambda s: s["description"],
        })
    return {"snapshotSet": items}


def delete_snapshot(ctx, p: Params) -> dict:
    snapshot = _snapshot(ctx, p.text("SnapshotId", required=True, max_length=64))
    enforce(ctx, "volume:snapshots:delete", {"project_id": snapshot.project_id})
    try:
        snapshot_service.delete_snapshot(ctx, snapshot)
    except CloudError as exc:
        raise Ec2Error("IncorrectState", exc.message) from None
    return {"return": True}
