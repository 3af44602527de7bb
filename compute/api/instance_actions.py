"""Instance actions (`/servers/{id}/os-instance-actions`): what was asked of a server, by whom,
and the steps (events) each request went through. Events are shown to whoever may see the
action; their traceback and host only to admins (`compute:instance_actions:events`), their
details per `compute:instance_actions:events:details`. From 2.21 a deleted server's actions are
shown too (404 below)."""
from rest_framework.response import Response

from cloudproj.api.errors import NotFound
from compute.services import actions, instances
from identity.services.policy import authorize, enforce

from .base import ComputeAPIView, api_version, isotime


def action_body(action, instance) -> dict:
    return {
        "action": action.action,
        "instance_uuid": str(instance.uuid),
        "message": action.message,
        "project_id": action.project_id,
        "request_id": action.request_id,
        "start_time": isotime(action.start_time),
        "user_id": action.user_id,
    }


def event_body(event, show_traceback: bool, show_details: bool) -> dict:
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
    return body


class InstanceActionAPIView(ComputeAPIView):
    def get_instance(self, server_id, action: str):
        instance = instances.get_instance(self.ctx, server_id,  # another project's: 404
                                          include_deleted=api_version(self.request) >= (2, 21))
        enforce(self.ctx, f"compute:instance_actions:{action}", self.target(instance))
        return instance

    @staticmethod
    def target(instance) -> dict:
        return {"project_id": instance.project_id, "user_id": instance.user_id}


class InstanceActionListView(InstanceActionAPIView):
    def get(self, request, server_id):
        instance = self.get_instance(server_id, "list")
        body = [action_body(action, instance) for action in actions.list_actions(instance)]
        return Response({"instanceActions": body})


class InstanceActionView(InstanceActionAPIView):
    def get(self, request, server_id, request_id):
        instance = self.get_instance(server_id, "show")
        action = actions.get_action(instance, request_id)
        if action is None:
            raise NotFound(f"Action for request_id {request_id} on instance {instance.uuid} not found")
        target = self.target(instance)
        show_traceback = authorize(self.ctx, "compute:instance_actions:events", target)
        show_details = authorize(self.ctx, "compute:instance_actions:events:details", target)
        body = action_body(action, instance)
        body["events"] = [event_body(e, show_traceback, show_details) for e in actions.list_events(action)]
        return Response({"instanceAction": body})
