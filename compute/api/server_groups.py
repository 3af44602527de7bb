"""Server groups (`/os-server-groups`): thin views over compute.services.server_groups, in
Nova's 2.1 shape: {"id", "name", "policies": [one policy], "members": [uuids], "metadata": {}}.
Policies at 2.1: affinity, anti-affinity (the soft ones come with 2.15, `policy` + `rules`
with 2.64: this cloud negotiates up to 2.11)."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.services import server_groups as svc
from identity.services.policy import enforce

from .base import ComputeAPIView, parse_bool, parse_int

POLICIES_2_1 = ("affinity", "anti-affinity")


def group_body(group, members) -> dict:
    return {
        "id": str(group.uuid),
        "name": group.name,
        "policies": [group.policy],
        "members": list(members),
        "metadata": {},
    }


class ServerGroupListView(ComputeAPIView):
    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:server-groups:index", {"project_id": ctx.project_id, "user_id": ctx.user_id})
        all_projects = parse_bool(request.query_params.get("all_projects", "false"), "all_projects")
        if all_projects:
            enforce(ctx, "compute:server-groups:index:all_projects")
        groups = svc.list_groups(ctx, all_projects=all_projects)
        offset = parse_int(request.query_params.get("offset", 0), "offset")
        limit = request.query_params.get("limit")
        groups = list(groups[offset:offset + parse_int(limit, "limit")] if limit is not None else groups[offset:])
        members = svc.members_by_group(groups)
        return Response({"server_groups": [group_body(g, members.get(g.pk, [])) for g in groups]})

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:server-groups:create", {"project_id": ctx.project_id, "user_id": ctx.user_id})
        body = self.body("server_group", allowed={"name", "policies"}, required={"name", "policies"})
        policies = body["policies"]
        if not isinstance(policies, list) or len(policies) != 1:
            raise BadRequest("Invalid input for field/attribute policies: exactly one policy is required.")
        if policies[0] not in POLICIES_2_1:
            raise BadRequest(
                f"Invalid input for field/attribute policies: {policies[0]!r} is not one of "
                f"{', '.join(POLICIES_2_1)}."
            )
        group = svc.create_group(ctx, body["name"], policies[0], allowed=POLICIES_2_1)
        return Response({"server_group": group_body(group, [])})


class ServerGroupView(ComputeAPIView):
    def get(self, request, group_id):
        group = svc.get_group(self.ctx, group_id)
        enforce(self.ctx, "compute:server-groups:show", {"project_id": group.project_id, "user_id": group.user_id})
        return Response({"server_group": group_body(group, svc.member_uuids(group))})

    def delete(self, request, group_id):
        group = svc.get_group(self.ctx, group_id)
        enforce(self.ctx, "compute:server-groups:delete", {"project_id": group.project_id, "user_id": group.user_id})
        svc.delete_group(self.ctx, group_id)
        return Response(status=204)
