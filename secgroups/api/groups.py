"""/os-security-groups: list, create, show, update, delete (nova-network's v2.1 calls).

Listing creates the project's `default` group when it has none yet (as Nova). Another
project's group is a 404 for non-admins; `?all_tenants=1` lists every project's for admins.
Create and update answer 200 with the group, delete 202.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.api.base import PROXY_REMOVED_IN, ComputeAPIView, parse_bool, parse_int
from identity.services.policy import enforce

from ..models import SecurityGroup
from ..services import groups as svc
from .parse import PARSERS, body
from .render import group_dict, with_rules

GROUP_FIELDS = {"name", "description"}


def project_id_of(ctx) -> str:
    if not ctx.project_id:
        raise BadRequest("A project-scoped token is required for security groups.")
    return ctx.project_id


class SecurityGroupView(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN
    parser_classes = PARSERS

    def group(self, group_id, action: str) -> SecurityGroup:
        ctx = self.ctx
        group = svc.get_group(group_id, None if ctx.is_admin else project_id_of(ctx))
        enforce(ctx, action, {"project_id": group.project_id})
        return group

    def render(self, group) -> dict:
        return group_dict(with_rules(SecurityGroup.objects.filter(pk=group.pk)).get())


class SecurityGroupCollection(SecurityGroupView):
    def get(self, request):
        ctx = self.ctx
        params = request.query_params
        all_tenants = "all_tenants" in params and parse_bool(params.get("all_tenants") or "1", "all_tenants")
        if all_tenants and ctx.is_admin:
            enforce(ctx, "compute:security_groups:list:all_tenants")
            rows = SecurityGroup.objects.order_by("id")
        else:
            project_id = project_id_of(ctx)
            enforce(ctx, "compute:security_groups:list", {"project_id": project_id})
            svc.ensure_default(project_id)
            rows = svc.groups_of_project(project_id)
        offset = parse_int(params.get("offset", 0), "offset")
        limit = parse_int(params["limit"], "limit") if params.get("limit") else None
        rows = with_rules(rows)[offset:offset + limit if limit is not None else None]
        return Response({"security_groups": [group_dict(g) for g in rows]})

    def post(self, request):
        ctx = self.ctx
        project_id = project_id_of(ctx)
        enforce(ctx, "compute:security_groups:create", {"project_id": project_id})
        data = body(self, "security_group", GROUP_FIELDS)
        group = svc.create_group(project_id, data.get("name"), data.get("description"))
        return Response({"security_group": self.render(group)})


class SecurityGroupItem(SecurityGroupView):
    def get(self, request, group_id):
        return Response({"security_group": self.render(self.group(group_id, "compute:security_groups:show"))})

    def put(self, request, group_id):
        group = self.group(group_id, "compute:security_groups:update")
        data = body(self, "security_group", GROUP_FIELDS)
        group = svc.update_group(group, name=data.get("name"), description=data.get("description"))
        return Response({"security_group": self.render(group)})

    def delete(self, request, group_id):
        svc.delete_group(self.group(group_id, "compute:security_groups:delete"))
        return Response(status=202)
