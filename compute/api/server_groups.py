"""Server groups (`/os-server-groups`): thin views over compute.services.server_groups, in
Nova's 2.1 shape: {"id", "name", "policies": [one policy], "members": [uuids], "metadata": {}};
from 2.13 with the group's `project_id` and `user_id`. Policies at 2.1: affinity, anti-affinity;
from 2.15 also soft-affinity and soft-anti-affinity. From 2.64 a group is created with one `policy`
and optional `rules` ({"max_server_per_host": n}, anti-affinity only) and shown as
{"id", "name", "policy", "rules", "members", "project_id", "user_id"} (no policies, no metadata)."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.services import server_groups as svc
from identity.services.policy import enforce

from .base import ComputeAPIView, api_version, parse_bool, parse_int

POLICIES_2_1 = ("affinity", "anti-affinity")
POLICIES_2_15 = POLICIES_2_1 + ("soft-affinity", "soft-anti-affinity")
OWNER_VERSION = (2, 13)
SOFT_POLICIES_VERSION = (2, 15)
POLICY_RULES_VERSION = (2, 64)


def group_body(group, members, version=(2, 1)) -> dict:
    if version >= POLICY_RULES_VERSION:
        return {"id": str(group.uuid), "name": group.name, "policy": group.policy, "rules": dict(group.rules or {}),
                "members": list(members), "project_id": group.project_id, "user_id": group.user_id}
    body = {
        "id": str(group.uuid),
        "name": group.name,
        "policies": [group.policy],
        "members": list(members),
        "metadata": {},
    }
    if version >= OWNER_VERSION:
        body["project_id"] = group.project_id
        body["user_id"] = group.user_id
    return body


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
        version = api_version(request)
        return Response({"server_groups": [group_body(g, members.get(g.pk, []), version) for g in groups]})

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:server-groups:create", {"project_id": ctx.project_id, "user_id": ctx.user_id})
        version = api_version(request)
        if version >= POLICY_RULES_VERSION:
            body = self.body("server_group", allowed={"name", "policy", "rules"}, required={"name", "policy"})
            if not isinstance(body["policy"], str):
                raise BadRequest("Invalid input for field/attribute policy: must be a string.")
            group = svc.create_group(ctx, body["name"], body["policy"], body.get("rules"), allowed=POLICIES_2_15)
            return Response({"server_group": group_body(group, [], version)})
        body = self.body("server_group", allowed={"name", "policies"}, required={"name", "policies"})
        policies = body["policies"]
        if not isinstance(policies, list) or len(policies) != 1:
            raise BadRequest("Invalid input for field/attribute policies: exactly one policy is required.")
        allowed = POLICIES_2_15 if version >= SOFT_POLICIES_VERSION else POLICIES_2_1
        if policies[0] not in allowed:
            raise BadRequest(
                f"Invalid input for field/attribute policies: {policies[0]!r} is not one of {', '.join(allowed)}."
            )
        group = svc.create_group(ctx, body["name"], policies[0], allowed=allowed)
        return Response({"server_group": group_body(group, [], version)})


class ServerGroupView(ComputeAPIView):
    def get(self, request, group_id):
        group = svc.get_group(self.ctx, group_id)
        enforce(self.ctx, "compute:server-groups:show", {"project_id": group.project_id, "user_id": group.user_id})
        return Response({"server_group": group_body(group, svc.member_uuids(group), api_version(request))})

    def delete(self, request, group_id):
        group = svc.get_group(self.ctx, group_id)
        enforce(self.ctx, "compute:server-groups:delete", {"project_id": group.project_id, "user_id": group.user_id})
        svc.delete_group(self.ctx, group_id)
        return Response(status=204)
