"""A server's security groups: `GET /servers/{id}/os-security-groups`, and the server
actions `addSecurityGroup` / `removeSecurityGroup` ({"name": group name}, 202), registered
with compute.api.server_actions.register_action.

An unknown group is a 404; adding a group the server is in already, or removing one it is
not in, is a 400 (as Nova).
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.api.servers import ServerAPIView, check_object

from ..models import SecurityGroup
from ..services import membership
from .render import group_dict, with_rules


class ServerSecurityGroupsView(ServerAPIView):
    def get(self, request, server_id):
        instance = self.server(server_id, "compute:server_security_groups:list")
        rows = with_rules(SecurityGroup.objects.filter(members__instance=instance).order_by("members__id"))
        return Response({"security_groups": [group_dict(group) for group in rows]})


def _name(value, action: str) -> str:
    body = check_object(value, action, {"name"})
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest(f"Invalid input for field/attribute {action}: 'name' is a required string.")
    return name


def add_security_group(view, server_id, value):
    name = _name(value, "addSecurityGroup")
    instance = view.server(server_id, "compute:server_security_groups:add")
    membership.add_to_instance(instance, name)
    return Response(status=202)


def remove_security_group(view, server_id, value):
    name = _name(value, "removeSecurityGroup")
    instance = view.server(server_id, "compute:server_security_groups:remove")
    membership.remove_from_instance(instance, name)
    return Response(status=202)
