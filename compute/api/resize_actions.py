"""Resize actions on `POST /servers/{id}/action` (Nova v2.1 names), registered with
server_actions.register_action from ComputeConfig.ready:

    {"resize": {"flavorRef": id|link, "OS-DCF:diskConfig"?}}   202   compute:servers:resize
    {"confirmResize": null}                                    204   compute:servers:confirm_resize
    {"revertResize": null}                                     202   compute:servers:revert_resize

The work is compute/services/resize.py's; a state that does not allow it answers 409.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from cloudproj.exceptions import NotFound as ComputeNotFound
from compute.services import flavors as flavor_service
from compute.services import resize as resize_service

from .servers import check_object, disk_config, last_segment


def resize(view, server_id, value):
    body = check_object(value, "resize", {"flavorRef", "OS-DCF:diskConfig"})
    flavor_ref = body.get("flavorRef")
    if isinstance(flavor_ref, bool) or not isinstance(flavor_ref, (str, int)) or flavor_ref == "":
        raise BadRequest("Invalid input for field/attribute flavorRef: must be a string or an integer.")
    if "OS-DCF:diskConfig" in body:
        disk_config(body["OS-DCF:diskConfig"])
    instance = view.server(server_id, "compute:servers:resize")
    try:
        flavor = flavor_service.get_flavor(last_segment(flavor_ref), view.ctx.project_id, view.ctx.is_admin)
    except ComputeNotFound:
        raise BadRequest("Unable to locate requested flavor.") from None
    resize_service.resize_server(view.ctx, instance, flavor)
    return Response(status=202)


def _null(value, action: str) -> None:
    if value not in (None, {}):
        raise BadRequest(f"Invalid input for field/attribute {action}: must be null.")


def confirm_resize(view, server_id, value):
    _null(value, "confirmResize")
    instance = view.server(server_id, "compute:servers:confirm_resize")
    resize_service.confirm_resize(view.ctx, instance)
    return Response(status=204)


def revert_resize(view, server_id, value):
    _null(value, "revertResize")
    instance = view.server(server_id, "compute:servers:revert_resize")
    resize_service.revert_resize(view.ctx, instance)
    return Response(status=202)


def register() -> None:
    from .server_actions import register_action

    register_action("resize", resize)
    register_action("confirmResize", confirm_resize)
    register_action("revertResize", revert_resize)
