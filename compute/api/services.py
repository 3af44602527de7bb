"""os-services: list, enable/disable (2.1 bodies), delete; from 2.11 `forced_down` in the
list and PUT /os-services/force-down. From 2.53 services are named by uuid: their `id` is
it, PUT /os-services/{uuid} takes {"status"?, "disabled_reason"?, "forced_down"?} and answers
the whole service, DELETE /os-services/{uuid}."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.services import hosts
from identity.services.policy import enforce

from . import serializers
from .base import ComputeAPIView, api_version, parse_bool, parse_string
from .serializers import UUID_IDS_VERSION


class ServiceListView(ComputeAPIView):
    def get(self, request):
        enforce(self.ctx, "compute:services:list")
        unknown = sorted(set(request.query_params) - {"host", "binary"})
        if unknown and api_version(request) >= (2, 75):
            raise BadRequest(f"Invalid input for query parameters: additional properties are not allowed "
                             f"({', '.join(unknown)}).")
        qs = hosts.list_services(request.query_params.get("host"), request.query_params.get("binary"))
        version = api_version(request)
        return Response({"services": [serializers.service(svc, version) for svc in qs]})


class ServiceItemView(ComputeAPIView):
    """PUT /os-services/{enable|disable|disable-log-reason|force-down}; DELETE /os-services/{id}."""

    def put(self, request, key):
        enforce(self.ctx, "compute:services:update")
        if api_version(request) >= UUID_IDS_VERSION:
            return self.update(request, key)
        actions = ("enable", "disable", "disable-log-reason") + (
            ("force-down",) if api_version(request) >= (2, 11) else ())
        if key not in actions:
            raise NotFound("Unknown action")
        data = request.data
        if key == "force-down":
            return self.force_down(data)
        allowed = {"host", "binary"} | ({"disabled_reason"} if key == "disable-log-reason" else set())
        required = allowed
        if not isinstance(data, dict):
            raise BadRequest("Invalid input: the body must be an object.")
        missing = sorted(required - set(data))
        if missing:
            raise BadRequest(f"Invalid input: '{missing[0]}' is a required property.")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise BadRequest(f"Invalid input: additional properties are not allowed ({', '.join(unknown)}).")
        host = parse_string(data["host"], "host")
        binary = parse_string(data["binary"], "binary")
        reason = parse_string(data["disabled_reason"], "disabled_reason") if "disabled_reason" in data else None
        disabled = key != "enable"
        svc = hosts.set_service_disabled(host, binary, disabled, reason)
        body = {"host": svc.host, "binary": svc.binary, "status": "disabled" if disabled else "enabled"}
        if key == "disable-log-reason":
            body["disabled_reason"] = svc.disabled_reason
        return Response({"service": body})

    def force_down(self, data):
        if not isinstance(data, dict):
            raise BadRequest("Invalid input: the body must be an object.")
        required = {"host", "binary", "forced_down"}
        missing = sorted(required - set(data))
        if missing:
            raise BadRequest(f"Invalid input: '{missing[0]}' is a required property.")
        unknown = sorted(set(data) - required)
        if unknown:
            raise BadRequest(f"Invalid input: additional properties are not allowed ({', '.join(unknown)}).")
        host = parse_string(data["host"], "host")
        binary = parse_string(data["binary"], "binary")
        forced_down = parse_bool(data["forced_down"], "forced_down")
        svc = hosts.set_service_forced_down(host, binary, forced_down)
        return Response({"service": {"host": svc.host, "binary": svc.binary, "forced_down": svc.forced_down}})

    def update(self, request, key):
        service = hosts.get_service_by_uuid(key)  # a malformed uuid first: 400, as Nova
        data = request.data
        if not isinstance(data, dict):
            raise BadRequest("Invalid input: the body must be an object.")
        unknown = sorted(set(data) - {"status", "disabled_reason", "forced_down"})
        if unknown:
            raise BadRequest(f"Invalid input: additional properties are not allowed ({', '.join(unknown)}).")
        status = data.get("status")
        if "status" in data and status not in ("enabled", "disabled"):
            raise BadRequest(f"Invalid input for field/attribute status: {status!r} is not one of enabled, disabled.")
        reason = parse_string(data["disabled_reason"], "disabled_reason") if "disabled_reason" in data else None
        forced_down = parse_bool(data["forced_down"], "forced_down") if "forced_down" in data else None
        svc = hosts.update_service(service, status, reason, forced_down)
        return Response({"service": serializers.service(svc, api_version(request))})

    def delete(self, request, key):
        enforce(self.ctx, "compute:services:delete")
        if api_version(request) >= UUID_IDS_VERSION:
            hosts.delete_service(hosts.get_service_by_uuid(key).uuid)
            return Response(status=204)
        try:
            service_id = int(key)
        except ValueError:
            raise BadRequest(f"Invalid ID {key}: must be an integer.") from None
        if not 0 < service_id <= 2**63 - 1:
            raise NotFound(f"Service {key} could not be found.")
        hosts.delete_service(service_id)
        return Response(status=204)
