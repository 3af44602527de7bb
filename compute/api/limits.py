"""GET /compute/v2.1/limits: the token's project's absolute limits and usage (Nova 2.1 shape).

Admins may ask for another project with `?tenant_id=` (unknown project -> 404); for anyone
else another project's id is a 403 (policy compute:limits:other_project), as in Nova.
`?reserved=1` counts reservations in flight as used, as Nova does. From 2.57 no
maxPersonality / maxPersonalitySize (file injection is gone).
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from identity.services import policy, quotas

from .base import ComputeAPIView, api_version, parse_bool
from .quotas import get_project_or_404

# absolute-limit name -> quota resource (Nova's `limits` view builder)
LIMIT_NAMES = {
    "maxTotalInstances": "instances",
    "maxTotalCores": "cores",
    "maxTotalRAMSize": "ram",
    "maxServerMeta": "metadata_items",
    "maxImageMeta": "metadata_items",
    "maxPersonality": "injected_files",
    "maxPersonalitySize": "injected_file_content_bytes",
    "maxTotalKeypairs": "key_pairs",
    "maxSecurityGroups": "security_groups",
    "maxSecurityGroupRules": "security_group_rules",
    "maxTotalFloatingIps": "floating_ips",
    "maxServerGroups": "server_groups",
    "maxServerGroupMembers": "server_group_members",
}
USED_NAMES = {
    "totalInstancesUsed": "instances",
    "totalCoresUsed": "cores",
    "totalRAMUsed": "ram",
    "totalFloatingIpsUsed": "floating_ips",
    "totalSecurityGroupsUsed": "security_groups",
    "totalServerGroupsUsed": "server_groups",
}
PERSONALITY_LIMITS = ("maxPersonality", "maxPersonalitySize")


class LimitsView(ComputeAPIView):
    def get(self, request):
        ctx = self.ctx
        policy.enforce(ctx, "compute:limits")
        project_id = request.query_params.get("tenant_id") or request.query_params.get("project_id")
        if project_id and project_id != ctx.project_id:
            policy.enforce(ctx, "compute:limits:other_project", {"project_id": project_id})
            project = get_project_or_404(project_id)
        else:
            project = ctx.project
            if project is None:
                raise BadRequest("The token is not scoped to a project; pass tenant_id.")
        reserved = parse_bool(request.query_params.get("reserved") or "0", "reserved")
        limits = quotas.get_quotas(project)
        usages = quotas.get_usages(project)
        absolute = {name: limits[resource] for name, resource in LIMIT_NAMES.items()}
        if api_version(request) >= (2, 57):
            for name in PERSONALITY_LIMITS:
                del absolute[name]
        for name, resource in USED_NAMES.items():
            usage = usages[resource]
            absolute[name] = usage["in_use"] + (usage["reserved"] if reserved else 0)
        return Response({"limits": {"rate": [], "absolute": absolute}})
