"""A server's tags (microversion 2.26; 404 below it), compute.services.tags underneath.

    GET    /servers/{id}/tags         {"tags": [...]}
    PUT    /servers/{id}/tags         {"tags": [...]} replaces them all -> 200 {"tags": [...]}
    DELETE /servers/{id}/tags         204
    GET    /servers/{id}/tags/{tag}   204 if the server has it, else 404
    PUT    /servers/{id}/tags/{tag}   201 + Location (new) or 204 (already there)
    DELETE /servers/{id}/tags/{tag}   204, 404 if it has no such tag

A bad tag or more than 50 is a 400; a change while the server is not ACTIVE, PAUSED,
SUSPENDED or STOPPED a 409."""
from urllib.parse import quote

from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.services import tags as tag_service

from .base import api_version, compute_base
from .servers import ServerAPIView

TAGS_VERSION = (2, 26)


class ServerTagAPIView(ServerAPIView):
    def tagged(self, server_id, rule: str):
        if api_version(self.request) < TAGS_VERSION:
            raise NotFound("The resource could not be found.")
        return self.server(server_id, f"compute:server-tags:{rule}")


class ServerTagListView(ServerTagAPIView):
    def get(self, request, server_id):
        return Response({"tags": tag_service.list_tags(self.tagged(server_id, "index"))})

    def put(self, request, server_id):
        instance = self.tagged(server_id, "update_all")
        data = request.data
        if not isinstance(data, dict) or set(data) != {"tags"}:
            raise BadRequest("Invalid input: the body must be {\"tags\": [...]}.")
        return Response({"tags": tag_service.replace_tags(instance, data["tags"])})

    def delete(self, request, server_id):
        tag_service.delete_all(self.tagged(server_id, "delete_all"))
        return Response(status=204)


class ServerTagView(ServerTagAPIView):
    def get(self, request, server_id, tag):
        instance = self.tagged(server_id, "show")
        if not tag_service.has_tag(instance, tag):
            raise NotFound(f"Server {server_id} has no tag '{tag}'")
        return Response(status=204)

    def put(self, request, server_id, tag):
        instance = self.tagged(server_id, "update")
        if request.data not in (None, {}) and request.body.strip() not in (b"", b"null"):
            raise BadRequest("Invalid input: this request takes no body.")
        if not tag_service.add_tag(instance, tag):
            return Response(status=204)
        location = f"{compute_base(request)}/v2.1/servers/{instance.uuid}/tags/{quote(tag, safe='')}"
        return Response(status=201, headers={"Location": location})

    def delete(self, request, server_id, tag):
        tag_service.delete_tag(self.tagged(server_id, "delete"), tag)
        return Response(status=204)
