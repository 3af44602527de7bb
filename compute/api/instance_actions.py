"""Instance actions (`/servers/{id}/os-instance-actions`): what was asked of a server, by whom,
and the steps (events) each request went through. Events are shown to whoever may see the
action; their traceback and host only to admins (`compute:instance_actions:events`), their
details per `compute:instance_actions:events:details`.

From 2.58 actions show `updated_at` and the list pages (`limit`, `marker`: a request id) and
filters (`changes-since`, from 2.66 `changes-before`, on updated_at); from 2.62 every event
shows the `hostId` of its host (as a server's hostId)."""

from rest_framework.response import Response

from cloudproj.api.errors import NotFound
from compute.services import actions, instances
from identity.services.policy import authorize, enforce

from .base import ComputeAPIView, api_version, isotime, marker_page
from .server_view import host_id
from .servers import changes_filter

PAGING_VERSION = (2, 58)
EVENT_HOST_ID_VERSION = (2, 62)


def action_body(action, instance, version=(2, 1)) -> dict:
    body = {
        "action": action.action,
        "instance_uuid": str(instance.uuid),
        "message": action.message,
        "project_id": action.project_id,
        "request_id": action.request_id,
        "start_time": isotime(action.start_time),
        "user_id": action.user_id,
    }
    if version >= PAGING_VERSION:
        body["updated_at"] = isotime(action.updated_at)
    return body


def event_body(event, show_traceback: bool, show_details: bool, host_id_of=None) -> dict:
    body = {
        "event": event.event,
        "start_time": isotime(event.start_time),
        "finish_time": isotime(event.finish_time),
        "result": event.result,
    }
    if show_traceback:
        body["traceback"] = event.traceback
        body["host"] = event.host
    if show_details:
        body["details"] = event.details
    if host_id_of is not None:
        body["hostId"] = host_id_of(event.host)
    return body


class InstanceActionAPIView(ComputeAPIView):
    def get_instance(self, server_id, action: str):
        instance = instances.get_instance(self.ctx, server_id)  # another project's: 404
        enforce(self.ctx, f"compute:instance_actions:{action}", self.target(instance))
        return instance

    @staticmethod
    def target(instance) -> dict:
        return {"project_id": instance.project_id, "user_id": instance.user_id}


class InstanceActionListView(InstanceActionAPIView):
    def get(self, request, server_id):
        instance = self.get_instance(server_id, "list")
        version = api_version(request)
        rows = actions.list_actions(instance)
        if version < PAGING_VERSION:
            return Response({"instanceActions": [action_body(action, instance) for action in rows]})
        rows, _changed = changes_filter(rows, request.query_params, version)
        page, next_links = marker_page(request, rows, lambda row: row.request_id,
                                       f"servers/{instance.uuid}/os-instance-actions")
        body = {"instanceActions": [action_body(action, instance, version) for action in page]}
        if next_links:
            body["links"] = next_links
        return Response(body)


class InstanceActionView(InstanceActionAPIView):
    def get(self, request, server_id, request_id):
        instance = self.get_instance(server_id, "show")
        action = actions.get_action(instance, request_id)
        if action is None:
            raise NotFound(f"Action for request_id {request_id} on instance {instance.uuid} not found")
        target = self.target(instance)
        show_traceback = authorize(self.ctx, "compute:instance_actions:events", target)
        show_details = authorize(self.ctx, "compute:instance_actions:events:details", target)
        version = api_version(request)
        body = action_body(action, instance, version)
        host_id_of = (lambda host: host_id(instance.project_id, host)) if version >= EVENT_HOST_ID_VERSION else None
        body["events"] = [event_body(e, show_traceback, show_details, host_id_of) for e in actions.list_events(action)]
        return Response({"instanceAction": body})
