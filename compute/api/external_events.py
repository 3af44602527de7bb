"""POST /os-server-external-events (Nova's, for other services: admins or the `service`
role). Body {"events": [{"name", "server_uuid", "status"?, "tag"?}]}; each event comes back
with its `code` (200, 404 for an unknown server, 422 for one not on a host yet) and `status`;
the answer is 200 when every event was accepted, 207 when some were, 404 when none.
Event names come with microversions, as Nova's request schema: volume-extended 2.51,
power-update 2.76, accelerator-request-bound 2.82, volume-reimaged 2.93 (below: 400)."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from cloudproj.exceptions import NotFound as InstanceNotFound
from compute.services import instances as instance_service
from compute.services import operations
from identity.services.policy import enforce

from .base import ComputeAPIView, api_version
from .servers import check_object

STATUSES = ("failed", "completed", "in-progress")
POWER_TAGS = ("POWER_ON", "POWER_OFF")
EVENT_VERSIONS = {"volume-extended": (2, 51), "power-update": (2, 76), "accelerator-request-bound": (2, 82),
                  "volume-reimaged": (2, 93)}


class ExternalEventsView(ComputeAPIView):
    def post(self, request):
        enforce(self.ctx, "compute:os-server-external-events:create")
        data = check_object(request.data, "body", {"events"})
        events = data.get("events")
        if not isinstance(events, list) or not events:
            raise BadRequest("Invalid input for field/attribute events: a non-empty list is required.")
        version = api_version(request)
        names = [name for name in operations.EXTERNAL_EVENTS if version >= EVENT_VERSIONS.get(name, (2, 1))]
        checked = []
        for event in events:
            event = check_object(event, "event", {"name", "server_uuid", "status", "tag"})
            if event.get("name") not in names:
                raise BadRequest(f"Invalid input for field/attribute name: {event.get('name')!r} is not one of "
                                 f"{', '.join(names)}.")
            if not isinstance(event.get("server_uuid"), str):
                raise BadRequest("Invalid input for field/attribute server_uuid: a string is required.")
            if event.get("status", "completed") not in STATUSES:
                raise BadRequest(f"Invalid input for field/attribute status: one of {', '.join(STATUSES)}.")
            if "tag" in event and not isinstance(event["tag"], str):
                raise BadRequest("Invalid input for field/attribute tag: a string is required.")
            if event["name"] == "power-update" and event.get("tag") not in POWER_TAGS:
                raise BadRequest(f"Invalid input for field/attribute tag: {event.get('tag')!r} is not one of "
                                 f"{', '.join(POWER_TAGS)} (the power-update event's target state).")
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
