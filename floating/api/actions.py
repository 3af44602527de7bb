"""Server actions of the floating app (registered in FloatingConfig.ready):

    {"addFloatingIp": {"address": "x.x.x.x", "fixed_address": "y.y.y.y"?}}   202
    {"removeFloatingIp": {"address": "x.x.x.x"}}                            202

handler(view, server_id, value): `view` is the compute API's ServerActionView.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.api.servers import check_object

from ..services import addresses


def _address(body: dict, action: str) -> str:
    if "address" not in body:
        raise BadRequest(f"Invalid input for field/attribute {action}: 'address' is a required property.")
    return body["address"]


def add_floating_ip(view, server_id, value):
    body = check_object(value, "addFloatingIp", {"address", "fixed_address"})
    address = addresses.parse_address(_address(body, "addFloatingIp"))
    fixed = body.get("fixed_address")
    if fixed is not None:
        fixed = addresses.parse_address(fixed, "fixed_address")
    instance = view.server(server_id, "compute:floating_ips:add")
    addresses.associate(view.ctx, instance, address, fixed_address=fixed)
    return Response(status=202)


def remove_floating_ip(view, server_id, value):
    body = check_object(value, "removeFloatingIp", {"address"})
    address = addresses.parse_address(_address(body, "removeFloatingIp"))
    instance = view.server(server_id, "compute:floating_ips:remove")
    addresses.disassociate(view.ctx, instance, address)
    return Response(status=202)
