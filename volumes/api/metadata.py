"""Volume and snapshot metadata (Cinder's routes):

    GET  /v3/{project}/volumes/{id}/metadata          {"metadata": {...}}
    POST /v3/{project}/volumes/{id}/metadata          {"metadata": {...}} merged into it: the whole
    PUT  /v3/{project}/volumes/{id}/metadata          {"metadata": {...}} replaces it
    GET|PUT|DELETE /v3/{project}/volumes/{id}/metadata/{key}   {"meta": {key: value}}; PUT's
         body holds exactly that key; a missing key is a 404
    the same under /snapshots/{id}/metadata.

Keys 1-255 characters, values at most 255 (strings), as at create; anything else is a 400.
"""
from django.db import transaction
from django.utils import timezone
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from identity.services import policy

from ..models import Snapshot, Volume
from ..services import snapshots as snapshot_service
from ..services import volumes as volume_service
from .common import VolumeView


class _MetadataBase(VolumeView):
    model: type = Volume
    read_action = "volume:get"
    write_action = "volume:update"

    def lookup(self, ctx, object_id):
        return volume_service.get_volume(ctx, object_id)

    def _object(self, project_id, object_id, write: bool):
        self.check_url_project(project_id)
        row = self.lookup(self.ctx, object_id)
        policy.enforce(self.ctx, self.write_action if write else self.read_action, {"project_id": row.project_id})
        return row

    def _save(self, row, change) -> dict:
        """Apply `change(current) -> new` to the row's metadata under a row lock; the new metadata."""
        with transaction.atomic():
            locked = self.model.objects.select_for_update().get(pk=row.pk)
            metadata = volume_service.validate_metadata(change(dict(locked.metadata or {})))
            self.model.objects.filter(pk=row.pk).update(metadata=metadata, updated_at=timezone.now())
        return metadata


def _body_metadata(request, key: str = "metadata") -> dict:
    data = request.data
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise BadRequest(f"Malformed request body: '{key}' must be an object.")
    return volume_service.validate_metadata(data[key])


class _Metadata(_MetadataBase):
    def get(self, request, project_id, object_id):
        row = self._object(project_id, object_id, write=False)
        return Response({"metadata": row.metadata or {}})

    def post(self, request, project_id, object_id):
        row = self._object(project_id, object_id, write=True)
        given = _body_metadata(request)
        return Response({"metadata": self._save(row, lambda current: {**current, **given})})

    def put(self, request, project_id, object_id):
        row = self._object(project_id, object_id, write=True)
        given = _body_metadata(request)
        return Response({"metadata": self._save(row, lambda current: given)})


class _MetadataItem(_MetadataBase):
    def get(self, request, project_id, object_id, key):
        row = self._object(project_id, object_id, write=False)
        if key not in (row.metadata or {}):
            raise NotFound(f"Metadata key {key} could not be found.")
        return Response({"meta": {key: row.metadata[key]}})

    def put(self, request, project_id, object_id, key):
        row = self._object(project_id, object_id, write=True)
        given = _body_metadata(request, "meta")
        if list(given) != [key]:
            raise BadRequest("Request body and URI mismatch: the body must hold exactly the key of the URI.")
        self._save(row, lambda current: {**current, **given})
        return Response({"meta": given})

    def delete(self, request, project_id, object_id, key):
        row = self._object(project_id, object_id, write=True)

        def drop(current: dict) -> dict:
            if key not in current:
                raise NotFound(f"Metadata key {key} could not be found.")
            current.pop(key)
            return current

        self._save(row, drop)
        return Response(status=200)


class _SnapshotMixin:
    model = Snapshot
    read_action = "volume:snapshots:get"
    write_action = "volume:snapshots:update"

    def lookup(self, ctx, object_id):
        return snapshot_service.get_snapshot(ctx, object_id)


class VolumeMetadata(_Metadata):
    pass


class VolumeMetadataItem(_MetadataItem):
    pass


class SnapshotMetadata(_SnapshotMixin, _Metadata):
    pass


class SnapshotMetadataItem(_SnapshotMixin, _MetadataItem):
    pass
