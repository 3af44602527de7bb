"""Compute quota sets: /compute/v2.1/os-quota-sets/{project_id}[/defaults|/detail], and the
defaults themselves: /compute/v2.1/os-quota-class-sets/default (admin).

Who may see what (identity.services.policy):
- show/detail: admins for any project; members and readers only for their own project.
  Another project's quota set is a 404 for non-admins, whether or not it exists, so
  existence is not disclosed; an admin asking for an unknown project gets 404 too.
- defaults: any authenticated user, for an existing project (unknown -> 404).
- update (PUT) and delete (DELETE, back to defaults, 202): admin only (403 otherwise).

PUT takes `{"quota_set": {<resource>: int, ..., "force": bool}}`. Integers and integer
strings from -1 (unlimited) to 2**31-1 are accepted; unknown keys, other types and
values below -1 are 400s. Without `force`, a limit below what the project already uses
(in_use + reserved) is a 400, as in Nova.

`?user_id=` (Nova's per-user quotas) is accepted on GET and ignored: quotas here are per
project only, which is what Nova returns for a user with no user-specific quotas. PUT or
DELETE with `user_id` is a 400.

Microversions: the quota class set shows server_groups and server_group_members from 2.50 (it
takes them at any version), and from 2.50 no network quotas (fixed_ips, floating_ips,
security_groups, security_group_rules); from 2.57 no injected_file* quota is shown or taken by
quota sets and quota class sets.
"""
from rest_framework import status
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound, OverLimit
from identity.services import policy, quotas
from identity.models import Project

from .base import ComputeAPIView, api_version


def quota_error(exc: quotas.QuotaError):
    """The API exception for an engine error."""
    if isinstance(exc, quotas.OverQuota):
        return OverLimit(str(exc))
    if isinstance(exc, quotas.ReservationNotFound):
        return NotFound(str(exc))
    return BadRequest(str(exc))


def get_project_or_404(project_id: str) -> Project:
    project = Project.objects.filter(id=project_id).first()
    if project is None:
        raise NotFound(f"Project {project_id} could not be found.")
    return project


NETWORK_QUOTAS = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")
GROUP_QUOTAS = ("server_groups", "server_group_members")
INJECTED_FILE_QUOTAS = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def compute_resources(version=(2, 1), quota_class: bool = False, shown: bool = True) -> tuple:
    """The compute quotas a request at `version` shows (or, not `shown`, may set): class sets show
    the group quotas and lose the network quotas from 2.50; sets and class sets lose the
    injected_file* quotas from 2.57."""
    hidden = set()
    if quota_class and version >= (2, 50):
        hidden |= set(NETWORK_QUOTAS)
    elif quota_class and shown:
        hidden |= set(GROUP_QUOTAS)
    if version >= (2, 57):
        hidden |= set(INJECTED_FILE_QUOTAS)
    return tuple(r for r in quotas.COMPUTE_RESOURCES if r not in hidden)


def compute_quota_set(values: dict, resources=quotas.COMPUTE_RESOURCES) -> dict:
    return {resource: values[resource] for resource in resources}


class QuotaSetView(ComputeAPIView):
    """GET/PUT/DELETE /os-quota-sets/{project_id}."""

    def get(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:show", {"project_id": project_id})
        project = get_project_or_404(project_id)
        resources = compute_resources(api_version(request))
        body = {"id": project.id, **compute_quota_set(quotas.get_quotas(project), resources)}
        return Response({"quota_set": body})

    def put(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:update", {"project_id": project_id})
        if "user_id" in request.query_params:
            raise BadRequest("Per-user quotas are not supported; omit user_id.")
        project = get_project_or_404(project_id)
        resources = compute_resources(api_version(request))
        try:
            values, force = quotas.parse_quota_update(request.data, resources)
            quotas.set_quotas(project, values, force=force)
        except quotas.QuotaError as exc:
            raise quota_error(exc) from None
        return Response({"quota_set": compute_quota_set(quotas.get_quotas(project), resources)})

    def delete(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:delete", {"project_id": project_id})
        if "user_id" in request.query_params:
            raise BadRequest("Per-user quotas are not supported; omit user_id.")
        project = get_project_or_404(project_id)
        quotas.delete_quotas(project, quotas.COMPUTE_RESOURCES)
        return Response(status=status.HTTP_202_ACCEPTED)


class QuotaSetDefaultsView(ComputeAPIView):
    """GET /os-quota-sets/{project_id}/defaults."""

    def get(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:defaults", {"project_id": project_id})
        project = get_project_or_404(project_id)
        resources = compute_resources(api_version(request))
        return Response({"quota_set": {"id": project.id, **compute_quota_set(quotas.get_defaults(), resources)}})


class QuotaSetDetailView(ComputeAPIView):
    """GET /os-quota-sets/{project_id}/detail: {"limit", "in_use", "reserved"} per resource."""

    def get(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:detail", {"project_id": project_id})
        project = get_project_or_404(project_id)
        resources = compute_resources(api_version(request))
        body = {"id": project.id, **compute_quota_set(quotas.get_quota_details(project), resources)}
        return Response({"quota_set": body})


class QuotaClassSetView(ComputeAPIView):
    """GET/PUT /os-quota-class-sets/default: the defaults every project without its own limits
    gets (admin only). Any value from -1 to 2**31-1 is accepted, as in Nova: a default is not
    checked against projects' usage. Only the "default" class exists here."""

    def _check_class(self, class_name: str) -> None:
        if class_name != quotas.DEFAULT_CLASS:
            raise NotFound(f"Quota class {class_name} could not be found (only 'default' is used).")

    def get(self, request, class_name):
        policy.enforce(self.ctx, "compute:quota_class_sets:show")
        self._check_class(class_name)
        resources = compute_resources(api_version(request), quota_class=True)
        return Response({"quota_class_set": {"id": class_name, **compute_quota_set(quotas.get_defaults(), resources)}})

    def put(self, request, class_name):
        policy.enforce(self.ctx, "compute:quota_class_sets:update")
        self._check_class(class_name)
        body = request.data
        if not isinstance(body, dict) or set(body) != {"quota_class_set"}:
            raise BadRequest("The request body must be an object with only a 'quota_class_set' object.")
        version = api_version(request)
        resources = compute_resources(version, quota_class=True)
        try:
            values, _force = quotas.parse_quota_update({"quota_set": body["quota_class_set"]},
                                                       compute_resources(version, True, shown=False), allow_force=False)
            quotas.set_defaults(values)
        except quotas.QuotaError as exc:
            raise quota_error(exc) from None
        return Response({"quota_class_set": compute_quota_set(quotas.get_defaults(), resources)})
