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

Microversions and headers: compute.api.base.ComputeAPIView. From 2.36 quota sets have no
fixed_ips, floating_ips, security_groups or security_group_rules (an update naming one: 400);
quota class sets keep them (Nova filters those from 2.50).
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


# from 2.36 the network proxies' quotas are gone from quota sets (and refused in updates)
FILTERED_V236 = ("fixed_ips", "floating_ips", "security_group_rules", "security_groups")


def quota_resources(version=(2, 1)) -> tuple:
    """The compute quota resources a version's quota sets show and take."""
    hidden = FILTERED_V236 if version >= (2, 36) else ()
    return tuple(resource for resource in quotas.COMPUTE_RESOURCES if resource not in hidden)


def compute_quota_set(values: dict, version=(2, 1)) -> dict:
    return {resource: values[resource] for resource in quota_resources(version)}


class QuotaSetView(ComputeAPIView):
    """GET/PUT/DELETE /os-quota-sets/{project_id}."""

    def get(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:show", {"project_id": project_id})
        project = get_project_or_404(project_id)
        body = {"id": project.id, **compute_quota_set(quotas.get_quotas(project), api_version(request))}
        return Response({"quota_set": body})

    def put(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:update", {"project_id": project_id})
        if "user_id" in request.query_params:
            raise BadRequest("Per-user quotas are not supported; omit user_id.")
        project = get_project_or_404(project_id)
        try:
            version = api_version(request)
            values, force = quotas.parse_quota_update(request.data, quota_resources(version))
            quotas.set_quotas(project, values, force=force)
        except quotas.QuotaError as exc:
            raise quota_error(exc) from None
        return Response({"quota_set": compute_quota_set(quotas.get_quotas(project), version)})

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
        return Response({"quota_set": {"id": project.id, **compute_quota_set(quotas.get_defaults(),
                                                                               api_version(request))}})


class QuotaSetDetailView(ComputeAPIView):
    """GET /os-quota-sets/{project_id}/detail: {"limit", "in_use", "reserved"} per resource."""

    def get(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:detail", {"project_id": project_id})
        project = get_project_or_404(project_id)
        body = {"id": project.id, **compute_quota_set(quotas.get_quota_details(project), api_version(request))}
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
        return Response({"quota_class_set": {"id": class_name, **compute_quota_set(quotas.get_defaults())}})

    def put(self, request, class_name):
        policy.enforce(self.ctx, "compute:quota_class_sets:update")
        self._check_class(class_name)
        body = request.data
        if not isinstance(body, dict) or set(body) != {"quota_class_set"}:
            raise BadRequest("The request body must be an object with only a 'quota_class_set' object.")
        try:
            values, _force = quotas.parse_quota_update({"quota_set": body["quota_class_set"]},
                                                       quotas.COMPUTE_RESOURCES, allow_force=False)
            quotas.set_defaults(values)
        except quotas.QuotaError as exc:
            raise quota_error(exc) from None
        return Response({"quota_class_set": compute_quota_set(quotas.get_defaults())})
