"""Shelve actions on `POST /servers/{id}/action` (Nova v2.1 names), registered with
server_actions.register_action from ComputeConfig.ready:

    {"shelve": null}          202   compute:servers:shelve
    {"shelveOffload": null}   202   compute:servers:shelve_offload (admins, as Nova)
    {"unshelve": null}        202   compute:servers:unshelve
    {"unshelve": {"availability_zone": "az"}}   from 2.77: an offloaded server's zone (else 409)

The work is compute/services/shelve.py's; a state that does not allow it answers 409.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.services import shelve as shelve_service

from .base import api_version
from .servers import check_object

UNSHELVE_ZONE_VERSION = (2, 77)


def _null(value, action: str) -> None:
    if value not in (None, {}):
        raise BadRequest(f"Invalid input for field/attribute {action}: must be null.")


def shelve(view, server_id, value):
    _null(value, "shelve")
    shelve_service.shelve_server(view.ctx, view.server(server_id, "compute:servers:shelve"))
    return Response(status=202)


def shelve_offload(view, server_id, value):
    _null(value, "shelveOffload")
    shelve_service.shelve_offload_server(view.ctx, view.server(server_id, "compute:servers:shelve_offload"))
    return Response(status=202)


def unshelve(view, server_id, value):
    zone = None
    if api_version(view.request) >= UNSHELVE_ZONE_VERSION and value is not None:
        body = check_object(value, "unshelve", {"availability_zone"})
        if "availability_zone" not in body:
            raise BadRequest("Invalid input for field/attribute unshelve: 'availability_zone' is a required property.")
        zone = body["availability_zone"]
        if not isinstance(zone, str) or not 1 <= len(zone) <= 255:
            raise BadRequest("Invalid input for field/attribute availability_zone: must be a string of 1 to 255 "
                             "characters.")
    else:
        _null(value, "unshelve")
    shelve_service.unshelve_server(view.ctx, view.server(server_id, "compute:servers:unshelve"), zone)
    return Response(status=202)


def register() -> None:
    from .server_actions import register_action

    register_action("shelve", shelve)
    register_action("shelveOffload", shelve_offload)
    register_action("unshelve", unshelve)
