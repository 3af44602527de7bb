"""Block Storage user messages (microversion 3.3; pagination, sorting and filters from 3.5) and
clusters (3.7). Below its microversion a path is a 404, as Cinder's VersionNotFoundForAPIMethod.

    GET    /v3/{project}/messages          {"messages": [...]} (3.5: limit, marker, offset, sort,
                                           resource_type, resource_uuid, event_id, message_level,
                                           request_id; `messages_links`)
    GET    /v3/{project}/messages/{id}     {"message": {...}}
    DELETE /v3/{project}/messages/{id}     204
    GET    /v3/{project}/clusters[/detail], /clusters/{name}, PUT /clusters/enable|disable (admins):
           this cloud's volume services are never clustered (no active-active configuration), so
           the lists are empty and a named cluster is a 404.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.api.base import isotime
from identity.services import catalog, policy

from ..services import messages as message_service
from .common import VolumeView
from .listing import paginate

MESSAGE_SORT_KEYS = {"id": "uuid", "created_at": "created_at", "event_id": "event_id",
                     "resource_type": "resource_type", "resource_uuid": "resource_uuid",
                     "message_level": "message_level", "request_id": "request_id"}
MESSAGE_FILTERS = ("resource_type", "resource_uuid", "event_id", "message_level", "request_id")


class VersionedView(VolumeView):
    since = "3.0"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not self.at_least(self.since):
            raise NotFound(f"The resource could not be found: {request.path} needs microversion {self.since} "
                           f"or later.")


def message_view(request, message) -> dict:
    base = catalog.base_url(request)
    return {
        "id": str(message.uuid), "resource_type": message.resource_type,
        "resource_uuid": message.resource_uuid or None, "request_id": message.request_id,
        "message_level": message.message_level, "event_id": message.event_id,
        "created_at": isotime(message.created_at), "guaranteed_until": isotime(message.expires_at),
        "user_message": message.detail,
        "links": [
            {"rel": "self", "href": f"{base}/volume/v3/{message.project_id}/messages/{message.uuid}"},
            {"rel": "bookmark", "href": f"{base}/volume/{message.project_id}/messages/{message.uuid}"},
        ],
    }


class MessageCollection(VersionedView):
    since = "3.3"

    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:messages:get_all", {"project_id": self.ctx.project_id})
        if not self.at_least("3.5"):  # before 3.5 the parameters are not looked at, as Cinder
            rows = message_service.messages_for(self.ctx)
            return Response({"messages": [message_view(request, row) for row in rows]})
        filters = {k: request.query_params[k] for k in MESSAGE_FILTERS if k in request.query_params}
        page, links = paginate(request, message_service.messages_for(self.ctx, filters), MESSAGE_SORT_KEYS,
                               "messages", project_id)
        body = {"messages": [message_view(request, row) for row in page]}
        if links:
            body["messages_links"] = links
        return Response(body)


class MessageItem(VersionedView):
    since = "3.3"

    def _message(self, project_id, message_id, action):
        self.check_url_project(project_id)
        message = message_service.get_message(self.ctx, message_id)
        policy.enforce(self.ctx, action, {"project_id": message.project_id})
        return message

    def get(self, request, project_id, message_id):
        message = self._message(project_id, message_id, "volume:messages:get")
        return Response({"message": message_view(request, message)})

    def delete(self, request, project_id, message_id):
        message_service.delete_message(self._message(project_id, message_id, "volume:messages:delete"))
        return Response(status=204)


class ClusterCollection(VersionedView):
    since = "3.7"

    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:clusters:get_all")
        return Response({"clusters": []})


class ClusterItem(VersionedView):
    since = "3.7"

    def get(self, request, project_id, name):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:clusters:get")
        binary = request.query_params.get("binary", "cinder-volume")
        raise NotFound(f"Cluster {name} with binary {binary} could not be found.")

    def put(self, request, project_id, name):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:clusters:update")
        if name not in ("enable", "disable"):
            raise NotFound(f"Unknown action {name}.")
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
            raise BadRequest("Invalid input received: 'name' is a required property.")
        binary = data.get("binary", "cinder-volume")
        raise NotFound(f"Cluster {data['name']} with binary {binary} could not be found.")
