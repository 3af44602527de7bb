"""Volumes, snapshots, attachments and volume types in Cinder v3's JSON shapes (field for field
as tempest's response schemas check them). `os-vol-tenant-attr:tenant_id` for whoever reads the
volume, `os-vol-host-attr:host` and `os-vol-mig-status-attr:*` only for admins, as Cinder's policy."""
from compute.api.base import isotime
from identity.services import catalog

from ..models import DEFAULT_TYPE_NAME, Snapshot, Volume, VolumeAttachment, VolumeType


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


def volume_detail(request, ctx, volume: Volume, shape: str = "show") -> dict:
    """A volume as show and the detailed list answer it. Cinder's create and update answers
    (`shape` "create") have neither `volume_image_metadata` nor the admin-only attributes
    (its extensions add those to show and list only; tempest's schemas forbid them)."""
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
        "bootable": "true" if volume.bootable else "false",
        "encrypted": False,
        "multiattach": False,
        "snapshot_id": str(volume.snapshot.uuid) if volume.snapshot_id else None,
        "source_volid": str(volume.source_volume.uuid) if volume.source_volume_id else None,
        "volume_type": volume_type_name(volume),
        "metadata": visible_metadata(volume, attachment),
        "user_id": volume.user_id,
        "consistencygroup_id": None,
        "replication_status": None,
        "migration_status": None,
    }
    if shape == "create":
        return body
    if volume.image_metadata:
        body["volume_image_metadata"] = dict(volume.image_metadata)
    # Cinder's defaults since Xena: whoever may read the volume sees its project
    body["os-vol-tenant-attr:tenant_id"] = volume.project_id
    if ctx.is_admin:
        # Cinder's host@backend#pool
        body["os-vol-host-attr:host"] = f"{volume.host}@{volume.driver}#{volume.driver}" if volume.host else None
        body["os-vol-mig-status-attr:migstat"] = None
        body["os-vol-mig-status-attr:name_id"] = None
    return body


def visible_metadata(volume: Volume, attachment) -> dict:
    """The volume's metadata and, as Cinder shows its admin metadata, `readonly` ("True"/"False",
    once set) and the attachment's `attached_mode` ("rw"/"ro")."""
    metadata = dict(volume.metadata or {})
    if volume.readonly is not None:
        metadata["readonly"] = str(volume.readonly)
    if attachment is not None:
        metadata["attached_mode"] = attachment.attach_mode
    return metadata


def snapshot_summary(request, ctx, snapshot: Snapshot) -> dict:
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
    }


def snapshot_detail(request, ctx, snapshot: Snapshot) -> dict:
    return {
        **snapshot_summary(request, ctx, snapshot),
        "os-extended-snapshot-attributes:project_id": snapshot.project_id,
        "os-extended-snapshot-attributes:progress": snapshot.progress or (
            "100%" if snapshot.status == "available" else "0%"),
    }


def volume_type_name(volume: Volume) -> str:
    return volume.volume_type.name if volume.volume_type_id else DEFAULT_TYPE_NAME


USER_VISIBLE_SPECS = ("multiattach", "RESKEY:availability_zones", "replication_enabled")


def volume_type_view(ctx, vtype: VolumeType, shape: str = "show") -> dict:
    """A volume type; non-admins see only the user-visible extra specs (as Cinder). Cinder's
    create answer has no `qos_specs_id` and its update answer neither that nor
    `os-volume-type-access:is_public` (`shape` "create" / "update")."""
    specs = vtype.extra_specs or {}
    if not ctx.is_admin:
        specs = {k: v for k, v in specs.items() if k in USER_VISIBLE_SPECS}
    body = {
        "id": str(vtype.uuid), "name": vtype.name, "description": vtype.description or None,
        "is_public": vtype.is_public, "os-volume-type-access:is_public": vtype.is_public,
        "extra_specs": specs, "qos_specs_id": str(vtype.qos_specs.uuid) if vtype.qos_specs_id else None,
    }
    if shape in ("create", "update"):
        del body["qos_specs_id"]
    if shape == "update":
        del body["os-volume-type-access:is_public"]
    return body
