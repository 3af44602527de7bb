"""The lock and unlock server actions (registered with server_actions.register_action) and
`GET /servers/{id}/diagnostics` (admins; from 2.48 in Nova's standard format). Lock takes no
body at 2.1 (a reason comes with 2.73); a locked server refuses other actions from non-admins
with 409."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.services import diagnostics, locks

from .base import api_version
from .server_actions import register_action
from .servers import ServerAPIView


def _no_body(value, action: str) -> None:
    if value not in (None, {}):
        raise BadRequest(f"Invalid input for field/attribute {action}: must be null.")


def lock_action(view, server_id, value):
    _no_body(value, "lock")
    instance = view.server(server_id, "compute:servers:lock")
    locks.lock(view.ctx, instance)
    return Response(status=202)


def unlock_action(view, server_id, value):
    _no_body(value, "unlock")
    instance = view.server(server_id, "compute:servers:unlock")
    locks.unlock(view.ctx, instance)
    return Response(status=202)


register_action("lock", lock_action)
register_action("unlock", unlock_action)


class ServerDiagnosticsView(ServerAPIView):
    def get(self, request, server_id):
        instance = self.server(server_id, "compute:servers:diagnostics")
        flat = diagnostics.server_diagnostics(self.ctx, instance)
        if api_version(request) >= (2, 48):  # Nova's standard format
            return Response(diagnostics.standard_diagnostics(instance, flat))
        return Response(flat)
