"""POST /os-server-external-events (Nova's, for other services: admins or the `service`
role). Body {"events": [{"name", "server_uuid", "status"?, "tag"?}]}; each event comes back
with its `code` (200, 404 for an unknown server, 422 for one not on a host yet) and `status`;
the answer is 200 when every event was accepted, 207 when some were, 404 when none."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from cloudproj.exceptions import NotFound as InstanceNotFound
from compute.services import instances as instance_service
from compute.services import operations
from identity.services.policy import enforce

from .base import ComputeAPIView
from .servers import check_object

STATUSES = ("failed", "completed", "in-progress")


class ExternalEventsView(ComputeAPIView):
    def post(self, request):
        enforce(self.ctx, "compute:os-server-external-events:create")
        data = check_object(request.data, "body", {"events"})
        events = data.get("events")
        if not isinstance(events, list) or not events:
            raise BadRequest("Invalid input for field/attribute events: a non-empty list is required.")
        checked = []
        for event in events:
            event = check_object(event, "event", {"name", "server_uuid", "status", "tag"})
            if event.get("name") not in operations.EXTERNAL_EVENTS:
                raise BadRequest(f"Invalid input for field/attribute name: {event.get('name')!r} is not one of "
                                 f"{', '.join(operations.EXTERNAL_EVENTS)}.")
            if not isinstance(event.get("server_uuid"), str):
                raise BadRequest("Invalid input for field/attribute server_uuid: a string is required.")
            if event.get("status", "completed") not in STATUSES:
                raise BadRequest(f"Invalid input for field/attribute status: one of {', '.join(STATUSES)}.")
            if "tag" in event and not isinstance(event["tag"], str):
                raise BadRequest("Invalid input for field/attribute tag: a string is required.")
            checked.append(event)
        answered = []
        for event in checked:
            try:
                instance = instance_service.get_instance(None, event["server_uuid"])  # any project
            except InstanceNotFound:
                code = 404
            else:
                code = operations.external_event(instance, event["name"])
            answer = {"name": event["name"], "server_uuid": event["server_uuid"], "code": code,
                      "status": event.get("status", "completed") if code == 200 else "failed"}
            if "tag" in event:
                answer["tag"] = event["tag"]
            answered.append(answer)
        accepted = sum(1 for a in answered if a["code"] == 200)
        if not accepted:
            raise NotFound("No instances found for any event.")
        return Response({"events": answered}, status=200 if accepted == len(answered) else 207)
