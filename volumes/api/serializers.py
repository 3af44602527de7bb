"""Volumes, snapshots and attachments in Cinder v3.0's JSON shapes."""
from compute.api.base import isotime
from identity.services import catalog

from ..models import Snapshot, Volume, VolumeAttachment


def _links(request, project_id: str, collection: str, item_id) -> list:
    base = catalog.base_url(request)
    return [
        {"rel": "self", "href": f"{base}/volume/v3/{project_id}/{collection}/{item_id}"},
        {"rel": "bookmark", "href": f"{base}/volume/{project_id}/{collection}/{item_id}"},
    ]


def attachment_view(attachment: VolumeAttachment) -> dict:
    volume_id = str(attachment.volume.uuid)
    return {
        "id": volume_id, "attachment_id": str(attachment.uuid), "volume_id": volume_id,
        "server_id": str(attachment.instance_uuid), "host_name": attachment.instance_host,
        "device": attachment.device or None, "attached_at": isotime(attachment.attached_at),
    }


def volume_summary(request, ctx, volume: Volume) -> dict:
    return {"id": str(volume.uuid), "name": volume.name or None,
            "links": _links(request, volume.project_id, "volumes", volume.uuid)}


def volume_detail(request, ctx, volume: Volume) -> dict:
    try:
        attachment = volume.attachment  # select_related by the list views
    except VolumeAttachment.DoesNotExist:
        attachment = None
    body = {
        **volume_summary(request, ctx, volume),
        "status": volume.status,
        "size": volume.size,
        "availability_zone": volume.availability_zone,
        "created_at": isotime(volume.created_at),
        "updated_at": isotime(volume.updated_at),
        "description": volume.description or None,
        "attachments": [attachment_view(attachment)] if attachment is not None else [],
        "bootable": "false",
        "encrypted": False,
        "multiattach": False,
        "snapshot_id": str(volume.snapshot.uuid) if volume.snapshot_id else None,
        "source_volid": None,
        "volume_type": "__DEFAULT__",
        "metadata": volume.metadata or {},
        "user_id": volume.user_id,
        "consistencygroup_id": None,
        "replication_status": None,
        "migration_status": None,
        "os-vol-tenant-attr:tenant_id": volume.project_id,
        "ec2_id": volume.ec2_id,
    }
    if ctx.is_admin:
        body["os-vol-host-attr:host"] = volume.host
        body["os-vol-mig-status-attr:migstat"] = None
        body["os-vol-mig-status-attr:name_id"] = None
    return body


def snapshot_summary(request, ctx, snapshot: Snapshot) -> dict:
    return snapshot_detail(request, ctx, snapshot)


def snapshot_detail(request, ctx, snapshot: Snapshot) -> dict:
    return {
        "id": str(snapshot.uuid),
        "name": snapshot.name or None,
        "description": snapshot.description or None,
        "volume_id": str(snapshot.volume.uuid),
        "size": snapshot.size,
        "status": snapshot.status,
        "created_at": isotime(snapshot.created_at),
        "updated_at": isotime(snapshot.updated_at),
        "metadata": snapshot.metadata or {},
        "progress": "100%" if snapshot.status == "available" else "0%",
        "os-extended-snapshot-attributes:project_id": snapshot.project_id,
        "os-extended-snapshot-attributes:progress": "100%" if snapshot.status == "available" else "0%",
        "ec2_id": snapshot.ec2_id,
    }
