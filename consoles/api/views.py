"""Console URLs for API users (Nova's shapes).

    POST /compute/v2.1/servers/{id}/remote-consoles
        {"remote_console": {"protocol": "vnc", "type": "novnc"}}
        -> 200 {"remote_console": {"protocol": "vnc", "type": "novnc", "url": ...}}
    POST /compute/v2.1/servers/{id}/action  {"os-getVNCConsole": {"type": "novnc"}}
        -> 200 {"console": {"type": "novnc", "url": ...}}   (what `openstack console url show`
        sends to a cloud whose compute API stops below microversion 2.6)

    GET /compute/v2.1/os-console-auth-tokens/{token}   (admins) what a token connects to:
        -> 200 {"console": {"instance_uuid", "host", "port", "internal_access_path": null}}
        from 2.31 for every console type; below 2.31 Nova showed only RDP tokens, which neither
        this cloud nor today's Nova issues: 400 (as Nova). An unknown or expired token: 404.

400 for a protocol or type this cloud does not serve, 404 for another project's server,
409 when the server is not ACTIVE or its compute service is down, 503 when its host does not
answer within HOST_CALL_TIMEOUT.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.api.base import MAX_VERSION, ComputeAPIView, NotAcceptable, api_version, requested_microversion
from identity.services.policy import enforce
from compute.api.servers import ServerAPIView, check_object
from identity.services.catalog import base_url

from consoles.services import vnc

POLICY = "compute:servers:remote_consoles"
# Nova serves remote-consoles from 2.6; this cloud's compute API negotiates 2.1 (so clients
# use os-getVNCConsole) and answers this path at 2.1 too, and at 2.6 when a client asks for it.
REMOTE_CONSOLES_VERSION = "2.6"


def _string(body: dict, field: str, what: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Invalid input for field/attribute {field}: {what} must be a non-empty string.")
    return value


def _asked_version(request) -> str | None:
    header = request.headers.get("OpenStack-API-Version", "").split()
    if len(header) == 2 and header[0].lower() == "compute":
        return header[1]
    return request.headers.get("X-OpenStack-Nova-API-Version")


class RemoteConsolesView(ServerAPIView):
    check_microversion = False

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:
            request.compute_microversion = requested_microversion(request)
        except NotAcceptable:
            if _asked_version(request) != REMOTE_CONSOLES_VERSION:
                raise
            request.compute_microversion = REMOTE_CONSOLES_VERSION

    def post(self, request, server_id):
        body = self.body("remote_console", allowed={"protocol", "type"}, required={"protocol", "type"})
        protocol, console_type = _string(body, "protocol", "protocol"), _string(body, "type", "type")
        vnc.check_console_type(protocol, console_type)
        instance = self.server(server_id, POLICY)
        token = vnc.create_vnc_console(self.ctx, instance, console_type, protocol)
        url = vnc.console_url(base_url(request), token)
        return Response({"remote_console": {"protocol": protocol, "type": console_type, "url": url}})

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        version = getattr(request, "compute_microversion", MAX_VERSION)
        response["OpenStack-API-Version"] = f"compute {version}"
        response["X-OpenStack-Nova-API-Version"] = version
        return response


def get_vnc_console_action(view, server_id, value):
    """The server action os-getVNCConsole (registered from ConsolesConfig.ready)."""
    body = check_object(value, "os-getVNCConsole", {"type"})
    console_type = _string(body, "type", "type")
    if console_type not in vnc.LEGACY_TYPES:
        raise BadRequest(f"Unsupported console type {console_type!r}: this cloud serves novnc.")
    instance = view.server(server_id, POLICY)
    token = vnc.create_vnc_console(view.ctx, instance, console_type, "vnc")
    return Response({"console": {"type": console_type, "url": vnc.console_url(base_url(view.request), token)}})


class ConsoleAuthTokenView(ComputeAPIView):
    def get(self, request, token):
        enforce(self.ctx, "compute:console_auth_tokens")  # first: members get 403 at every version
        if api_version(request) < (2, 31):
            raise BadRequest("The requested console type details are not accessible")
        row = vnc.token_details(token)
        return Response({"console": {"instance_uuid": str(row.instance_uuid), "host": row.host, "port": row.port,
                                     "internal_access_path": None}})
