"""GET /volume/v3/{project_id}/limits: absolute limits and usage of the token's project.

Admins may pass `?project_id=` for another project (Cinder 3.39+); anyone else gets a 403.
"""
from rest_framework.response import Response

from identity.services import policy, quotas

from .common import VolumeView, get_project_or_404

LIMIT_NAMES = {
    "maxTotalVolumes": "volumes",
    "maxTotalSnapshots": "snapshots",
    "maxTotalVolumeGigabytes": "gigabytes",
    "maxTotalBackups": "backups",
    "maxTotalBackupGigabytes": "backup_gigabytes",
}
USED_NAMES = {
    "totalVolumesUsed": "volumes",
    "totalSnapshotsUsed": "snapshots",
    "totalGigabytesUsed": "gigabytes",
    "totalBackupsUsed": "backups",
    "totalBackupGigabytesUsed": "backup_gigabytes",
}


class LimitsView(VolumeView):
    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:limits")
        target = request.query_params.get("project_id")
        if target and target != self.ctx.project_id:
            policy.enforce(self.ctx, "volume:limits:other_project", {"project_id": target})
            project = get_project_or_404(target)
        else:
            project = self.ctx.project
        limits = quotas.get_quotas(project)
        usages = quotas.get_usages(project)
        absolute = {name: limits[resource] for name, resource in LIMIT_NAMES.items()}
        absolute.update({name: usages[resource]["in_use"] for name, resource in USED_NAMES.items()})
        return Response({"limits": {"rate": [], "absolute": absolute}})
