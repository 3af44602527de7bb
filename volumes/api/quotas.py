"""Block Storage quota sets: /volume/v3/{project_id}/os-quota-sets/{target}[/defaults].

- GET (`?usage=True` for {"limit", "in_use", "reserved"} per resource): admins for any
  project, members and readers for their own (another project or an unknown one -> 404).
- GET .../defaults: any authenticated user, for an existing project.
- PUT `{"quota_set": {...}}` and DELETE (back to defaults, 200): admin only.

Resources: volumes, gigabytes, snapshots (settings.QUOTA_DEFAULTS), and per_volume_gigabytes
(-1), backups (10), backup_gigabytes (1000), groups (10) from identity.services.quotas.BUILTIN_DEFAULTS
(Cinder's defaults), and for every volume type `volumes_<type>`, `gigabytes_<type>` and
`snapshots_<type>` (default -1; held to by the volumes of that type: volumes.services.volumes).
Unknown keys, wrong types and values below -1 are 400s; so is lowering a limit below what
the project uses (Cinder has no `force`).
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from identity.services import policy, quotas

from .common import VolumeView, get_project_or_404, quota_error


def volume_resources() -> tuple:
    """The resources of a Block Storage quota set: Cinder's, and those of each volume type."""
    return quotas.VOLUME_RESOURCES + quotas.per_type_resources()


def volume_quota_set(values: dict) -> dict:
    return {resource: values[resource] for resource in volume_resources() if resource in values}


def parse_usage(value: str | None) -> bool:
    if value is None:
        return False
    text = value.strip().lower()
    if text in ("true", "1", "t", "yes", "y", "on"):
        return True
    if text in ("false", "0", "f", "no", "n", "off", ""):
        return False
    raise BadRequest(f"Invalid value {value!r} for usage: a boolean is expected.")


class QuotaSetView(VolumeView):
    def get(self, request, project_id, target_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:quota_sets:show", {"project_id": target_id})
        usage = parse_usage(request.query_params.get("usage"))
        project = get_project_or_404(target_id)
        values = (quotas.get_quota_details(project, with_types=True) if usage
                  else quotas.get_quotas(project, with_types=True))
        return Response({"quota_set": {"id": project.id, **volume_quota_set(values)}})

    def put(self, request, project_id, target_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:quota_sets:update", {"project_id": target_id})
        project = get_project_or_404(target_id)
        try:
            values, _ = quotas.parse_quota_update(request.data, volume_resources(), allow_force=False)
            quotas.set_quotas(project, values)
        except quotas.QuotaError as exc:
            raise quota_error(exc) from None
        return Response({"quota_set": volume_quota_set(quotas.get_quotas(project, with_types=True))})

    def delete(self, request, project_id, target_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:quota_sets:delete", {"project_id": target_id})
        project = get_project_or_404(target_id)
        quotas.delete_quotas(project, volume_resources())
        return Response(status=200)


class QuotaSetDefaultsView(VolumeView):
    def get(self, request, project_id, target_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:quota_sets:defaults", {"project_id": target_id})
        project = get_project_or_404(target_id)
        return Response({"quota_set": {"id": project.id, **volume_quota_set(quotas.get_defaults(with_types=True))}})
