"""Compute quota sets: /compute/v2.1/os-quota-sets/{project_id}[/defaults|/detail].

Who may see what (identity.policy):
- show/detail: admins for any project; members and readers only for their own project.
  Another project's quota set is a 403 (as in Nova), whether or not it exists, so
  existence is not disclosed to non-admins; an admin asking for an unknown project gets 404.
- defaults: any authenticated user, for an existing project (unknown -> 404).
- update (PUT) and delete (DELETE, back to defaults, 202): admin only (403 otherwise).

PUT takes `{"quota_set": {<resource>: int, ..., "force": bool}}`. Integers and integer
strings from -1 (unlimited) to 2**31-1 are accepted; unknown keys, other types and
values below -1 are 400s. Without `force`, a limit below what the project already uses
(in_use + reserved) is a 400, as in Nova.

`?user_id=` (Nova's per-user quotas) is accepted on GET and ignored: quotas here are per
project only, which is what Nova returns for a user with no user-specific quotas. PUT or
DELETE with `user_id` is a 400.

Every response carries `OpenStack-API-Version: compute 2.1` (this API speaks 2.1 only).
"""
from rest_framework import status
from rest_framework.exceptions import NotAcceptable
from rest_framework.response import Response
from rest_framework.views import APIView

from cloudproj.api.errors import BadRequest, NotFound, OverLimit
from identity import policy, quotas
from identity.models import Project

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 1)


def _parse_version(text: str):
    try:
        major, minor = text.strip().split(".")
        return int(major), int(minor)
    except ValueError:
        return None


class ComputeView(APIView):
    """Base of the quota and limits views: compute microversion header, Nova error names."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        requested = self._requested_version(request)
        if requested is None or requested == "latest":
            return
        version = _parse_version(requested)
        if version is None:
            raise BadRequest(f"Invalid API version request string {requested!r}.")
        if not MIN_VERSION <= version <= MAX_VERSION:
            raise NotAcceptable(
                f"Version {requested} is not supported by the API. Minimum is 2.1 and maximum is 2.1."
            )

    @staticmethod
    def _requested_version(request):
        header = request.headers.get("OpenStack-API-Version", "")
        for part in header.split(","):
            words = part.split()
            if len(words) == 2 and words[0].lower() == "compute":
                return words[1].lower()
        legacy = request.headers.get("X-OpenStack-Nova-API-Version")
        return legacy.strip().lower() if legacy else None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["OpenStack-API-Version"] = "compute 2.1"
        response["X-OpenStack-Nova-API-Version"] = "2.1"
        response["Vary"] = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
        return response

    @property
    def ctx(self):
        return self.request.auth


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


def compute_quota_set(values: dict) -> dict:
    return {resource: values[resource] for resource in quotas.COMPUTE_RESOURCES}


class QuotaSetView(ComputeView):
    """GET/PUT/DELETE /os-quota-sets/{project_id}."""

    def get(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:show", {"project_id": project_id})
        project = get_project_or_404(project_id)
        body = {"id": project.id, **compute_quota_set(quotas.get_quotas(project))}
        return Response({"quota_set": body})

    def put(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:update", {"project_id": project_id})
        if "user_id" in request.query_params:
            raise BadRequest("Per-user quotas are not supported; omit user_id.")
        project = get_project_or_404(project_id)
        try:
            values, force = quotas.parse_quota_update(request.data, quotas.COMPUTE_RESOURCES)
            quotas.set_quotas(project, values, force=force)
        except quotas.QuotaError as exc:
            raise quota_error(exc) from None
        return Response({"quota_set": compute_quota_set(quotas.get_quotas(project))})

    def delete(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:delete", {"project_id": project_id})
        if "user_id" in request.query_params:
            raise BadRequest("Per-user quotas are not supported; omit user_id.")
        project = get_project_or_404(project_id)
        quotas.delete_quotas(project, quotas.COMPUTE_RESOURCES)
        return Response(status=status.HTTP_202_ACCEPTED)


class QuotaSetDefaultsView(ComputeView):
    """GET /os-quota-sets/{project_id}/defaults."""

    def get(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:defaults", {"project_id": project_id})
        project = get_project_or_404(project_id)
        return Response({"quota_set": {"id": project.id, **compute_quota_set(quotas.get_defaults())}})


class QuotaSetDetailView(ComputeView):
    """GET /os-quota-sets/{project_id}/detail: {"limit", "in_use", "reserved"} per resource."""

    def get(self, request, project_id):
        policy.enforce(self.ctx, "compute:quota_sets:detail", {"project_id": project_id})
        project = get_project_or_404(project_id)
        body = {"id": project.id, **compute_quota_set(quotas.get_quota_details(project))}
        return Response({"quota_set": body})
