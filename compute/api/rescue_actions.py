"""Rescue actions on `POST /servers/{id}/action` (Nova v2.1 names), registered with
server_actions.register_action from ComputeConfig.ready:

    {"rescue": null | {"adminPass"?, "rescue_image_ref"?}}   200 {"adminPass"}  compute:servers:rescue
    {"unrescue": null}                                        202               compute:servers:unrescue

The work is compute/services/rescue.py's; a state that does not allow it answers 409.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.services import rescue as rescue_service

from .server_actions import body_admin_pass
from .servers import check_object, find_image, generate_password


def rescue(view, server_id, value):
    body = check_object(value if value is not None else {}, "rescue", {"adminPass", "rescue_image_ref"})
    admin_pass = body_admin_pass(body)
    image_ref = body.get("rescue_image_ref")
    if image_ref is not None and (not isinstance(image_ref, str) or not image_ref):
        raise BadRequest("Invalid input for field/attribute rescue_image_ref: must be a non-empty string.")
    instance = view.server(server_id, "compute:servers:rescue")
    image = find_image(view.ctx, image_ref, "Cannot find the rescue image") if image_ref else None
    rescue_service.rescue_server(view.ctx, instance, image)
    # as Nova: the password asked for, or one made up (the test image has no agent to set it)
    return Response({"adminPass": admin_pass if admin_pass is not None else generate_password()})


def unrescue(view, server_id, value):
    if value not in (None, {}):
        raise BadRequest("Invalid input for field/attribute unrescue: must be null.")
    instance = view.server(server_id, "compute:servers:unrescue")
    rescue_service.unrescue_server(view.ctx, instance)
    return Response(status=202)


def register() -> None:
    from .server_actions import register_action

    register_action("rescue", rescue)
    register_action("unrescue", unrescue)
