"""The Compute v2.1 volume proxies, `/os-volumes` and `/os-snapshots` (Nova's camelCase
shapes) over volumes.services: list, detail, show, create (200 with the new entity) and delete
(202). Another project's volume or snapshot is a 404; errors are the services' (400 invalid
status or input, 403 over quota)."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from identity.services.policy import enforce
from volumes.services import snapshots as snapshot_service
from volumes.services import volumes as volume_service

from .base import PROXY_REMOVED_IN, ComputeAPIView, isotime, parse_bool, parse_int

VOLUME_FIELDS = {"size", "display_name", "display_description", "volume_type", "metadata", "availability_zone",
                 "snapshot_id"}
SNAPSHOT_FIELDS = {"volume_id", "force", "display_name", "display_description"}


def attachments(volume) -> list[dict]:
    """Nova lists a volume's attachment, or one empty object when it has none."""
    attachment = volume.attachment if hasattr(volume, "attachment") else None  # reverse one-to-one
    if attachment is None:
        return [{}]
    return [{"id": str(volume.uuid), "volumeId": str(volume.uuid), "serverId": str(attachment.instance_uuid),
             "device": attachment.device}]


def volume_body(volume) -> dict:
    return {
        "id": str(volume.uuid),
        "status": volume.status,
        "size": volume.size,
        "availabilityZone": volume.availability_zone,
        "createdAt": isotime(volume.created_at),
        "attachments": attachments(volume),
        "displayName": volume.name or None,
        "displayDescription": volume.description or None,
        "volumeType": None,  # volume types: none in this cloud yet
        "snapshotId": str(volume.snapshot.uuid) if volume.snapshot_id else None,
        "metadata": dict(volume.metadata or {}),
    }


def snapshot_body(snapshot) -> dict:
    return {
        "id": str(snapshot.uuid),
        "volumeId": str(snapshot.volume.uuid),
        "status": snapshot.status,
        "size": snapshot.size,
        "createdAt": isotime(snapshot.created_at),
        "displayName": snapshot.name or None,
        "displayDescription": snapshot.description or None,
    }


def _text(data: dict, key: str):
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"Invalid input for field/attribute {key}: must be a string.")
    return value


MAX_LIMIT = 1000  # Nova's osapi_max_limit


def limited(request, rows):
    """Nova's `common.limited`: `offset` (rows skipped) and `limit` (at most MAX_LIMIT) query
    parameters, each a non-negative integer (anything else is a 400)."""
    params = request.query_params
    offset = parse_int(params["offset"], "offset", 0, 2**63) if "offset" in params else 0
    limit = MAX_LIMIT
    if "limit" in params:
        limit = min(parse_int(params["limit"], "limit", 0, 2**63), MAX_LIMIT) or MAX_LIMIT
    return rows[offset:offset + limit]


class VolumeCollection(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def get(self, request):
        enforce(self.ctx, "compute:os-volumes:list")
        volumes = volume_service.volumes_for(self.ctx).select_related("snapshot").order_by("-created_at", "-id")
        return Response({"volumes": [volume_body(volume) for volume in limited(request, volumes)]})

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:os-volumes:create", {"project_id": ctx.project_id})
        data = self.body("volume", VOLUME_FIELDS, {"size"})
        if data.get("volume_type") not in (None, ""):
            raise BadRequest(f"Volume type {data['volume_type']} could not be found.")
        metadata = data.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise BadRequest("Invalid input for field/attribute metadata: must be an object.")
        volume = volume_service.create_volume(
            ctx, parse_int(data["size"], "size", 1), name=_text(data, "display_name"),
            description=_text(data, "display_description"), availability_zone=_text(data, "availability_zone"),
            snapshot_id=_text(data, "snapshot_id"), metadata=metadata,
        )
        return Response({"volume": volume_body(volume)})


class VolumeDetailCollection(VolumeCollection):
    http_method_names = ["get", "head", "options"]


class VolumeItem(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def get(self, request, volume_id):
        enforce(self.ctx, "compute:os-volumes:show")
        return Response({"volume": volume_body(volume_service.get_volume(self.ctx, volume_id))})

    def delete(self, request, volume_id):
        enforce(self.ctx, "compute:os-volumes:delete")
        volume_service.delete_volume(self.ctx, volume_service.get_volume(self.ctx, volume_id))
        return Response(status=202)


class SnapshotCollection(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def get(self, request):
        enforce(self.ctx, "compute:os-snapshots:list")
        snapshots = snapshot_service.snapshots_for(self.ctx).order_by("-created_at", "-id")
        return Response({"snapshots": [snapshot_body(snapshot) for snapshot in limited(request, snapshots)]})

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:os-snapshots:create", {"project_id": ctx.project_id})
        data = self.body("snapshot", SNAPSHOT_FIELDS, {"volume_id"})
        volume_id = _text(data, "volume_id")
        force = parse_bool(data.get("force", False), "force")
        volume = volume_service.get_volume(ctx, volume_id)
        snapshot = snapshot_service.create_snapshot(
            ctx, volume, name=_text(data, "display_name"), description=_text(data, "display_description"),
            force=force,
        )
        return Response({"snapshot": snapshot_body(snapshot)})


class SnapshotDetailCollection(SnapshotCollection):
    http_method_names = ["get", "head", "options"]


class SnapshotItem(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def get(self, request, snapshot_id):
        enforce(self.ctx, "compute:os-snapshots:show")
        return Response({"snapshot": snapshot_body(snapshot_service.get_snapshot(self.ctx, snapshot_id))})

    def delete(self, request, snapshot_id):
        enforce(self.ctx, "compute:os-snapshots:delete")
        snapshot_service.delete_snapshot(self.ctx, snapshot_service.get_snapshot(self.ctx, snapshot_id))
        return Response(status=202)
