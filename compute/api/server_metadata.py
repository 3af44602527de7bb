"""Server metadata (`/servers/{id}/metadata[/{key}]`), Nova semantics:

    GET    /metadata          {"metadata": {...}}
    POST   /metadata          merge the given items into the metadata   -> all of it
    PUT    /metadata          replace the metadata with the given items -> all of it
    GET    /metadata/{key}    {"meta": {key: value}}  (404 when missing)
    PUT    /metadata/{key}    body {"meta": {key: value}}, key as in the URL -> {"meta": ...}
    DELETE /metadata/{key}    204 (404 when missing)

Keys and values are strings (1-255 / 0-255 characters); the number of items is limited by the
project's `metadata_items` quota (403 over it). Writes are serialized per server.
"""
from django.db import transaction
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute import states
from compute.models import Instance
from compute.services import instances as instance_service

from .servers import ServerAPIView

NOT_FOUND = "Metadata item was not found"


class MetadataAPIView(ServerAPIView):
    def write(self, instance, change) -> dict:
        """Apply change(current metadata) -> new metadata under a row lock; returns the new one."""
        states.check_allowed(instance, "update_metadata", is_admin=self.ctx.is_admin)
        with transaction.atomic():
            row = Instance.all_objects.select_for_update().get(pk=instance.pk)
            metadata = change(dict(row.metadata or {}))
            metadata = instance_service.validate_metadata(row.project_id, metadata)
            instance_service.update_state(instance, metadata=metadata)
        return metadata

    def metadata_body(self, key: str = "metadata") -> dict:
        data = self.request.data
        if not isinstance(data, dict) or set(data) != {key} or not isinstance(data[key], dict):
            raise BadRequest(f"Malformed request body: expected {{\"{key}\": {{...}}}}.")
        items = data[key]
        for item_key, value in items.items():
            if not isinstance(value, str):
                raise BadRequest(f"Invalid input for field/attribute {item_key}: the value must be a string.")
        return items


class ServerMetadataView(MetadataAPIView):
    def get(self, request, server_id):
        instance = self.server(server_id, "compute:server_metadata:index")
        return Response({"metadata": dict(instance.metadata or {})})

    def post(self, request, server_id):
        instance = self.server(server_id, "compute:server_metadata:create")
        items = self.metadata_body()
        return Response({"metadata": self.write(instance, lambda current: {**current, **items})})

    def put(self, request, server_id):
        instance = self.server(server_id, "compute:server_metadata:update_all")
        items = self.metadata_body()
        return Response({"metadata": self.write(instance, lambda current: dict(items))})


class ServerMetadataItemView(MetadataAPIView):
    def get(self, request, server_id, key):
        instance = self.server(server_id, "compute:server_metadata:show")
        metadata = instance.metadata or {}
        if key not in metadata:
            raise NotFound(NOT_FOUND)
        return Response({"meta": {key: metadata[key]}})

    def put(self, request, server_id, key):
        instance = self.server(server_id, "compute:server_metadata:update")
        items = self.metadata_body("meta")
        if len(items) > 1:
            raise BadRequest("Request body contains too many items")
        if key not in items:
            raise BadRequest("Request body and URI mismatch")
        self.write(instance, lambda current: {**current, key: items[key]})
        return Response({"meta": {key: items[key]}})

    def delete(self, request, server_id, key):
        instance = self.server(server_id, "compute:server_metadata:delete")

        def remove(current):
            if key not in current:
                raise NotFound(NOT_FOUND)
            current.pop(key)
            return current

        self.write(instance, remove)
        return Response(status=204)
