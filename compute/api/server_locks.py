"""The lock and unlock server actions (registered with server_actions.register_action) and
`GET /servers/{id}/diagnostics` (admins). Lock takes no body at 2.1; from 2.73
{"lock": {"locked_reason": "..."}} (or null) keeps a reason, shown as the server's
`locked_reason`. A locked server refuses other actions from non-admins with 409.
Also GET /servers/{id}/topology (2.78)."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.services import diagnostics, locks

from .base import api_version
from .server_actions import register_action
from .servers import ServerAPIView, check_object

LOCKED_REASON_VERSION = (2, 73)
TOPOLOGY_VERSION = (2, 78)


def _no_body(value, action: str) -> None:
    if value not in (None, {}):
        raise BadRequest(f"Invalid input for field/attribute {action}: must be null.")


def lock_action(view, server_id, value):
    reason = None
    if api_version(view.request) >= LOCKED_REASON_VERSION and value is not None:
        reason = check_object(value, "lock", {"locked_reason"}).get("locked_reason")
    else:
        _no_body(value, "lock")
    instance = view.server(server_id, "compute:servers:lock")
    locks.lock(view.ctx, instance, reason)
    return Response(status=202)


def unlock_action(view, server_id, value):
    _no_body(value, "unlock")
    instance = view.server(server_id, "compute:servers:unlock")
    locks.unlock(view.ctx, instance)
    return Response(status=202)


register_action("lock", lock_action)
register_action("unlock", unlock_action)


class ServerTopologyView(ServerAPIView):
    """2.78: GET /servers/{id}/topology, the guest's NUMA topology. No guest of this cloud has
    one (its domains define no NUMA cells), so it is Nova's answer for such a server. 404 below
    2.78, as Nova's versioned route."""

    def get(self, request, server_id):
        if api_version(request) < TOPOLOGY_VERSION:
            raise NotFound("The resource could not be found.")
        self.server(server_id, "compute:server:topology:index")
        return Response({"nodes": [], "pagesize_kb": None})


class ServerDiagnosticsView(ServerAPIView):
    def get(self, request, server_id):
        instance = self.server(server_id, "compute:servers:diagnostics")
        return Response(diagnostics.server_diagnostics(self.ctx, instance))
