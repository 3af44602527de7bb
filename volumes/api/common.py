"""Shared pieces of the Block Storage v3 API: the base view (microversion header, the
project id in the URL) and the version documents.

This API speaks microversion 3.0 only: a request may send `OpenStack-API-Version: volume 3.0`
(or `latest`), and every response says `OpenStack-API-Version: volume 3.0`. Any other version
is a 406; a malformed one a 400.
"""
from rest_framework.exceptions import APIException, NotAcceptable
from rest_framework.views import APIView

from cloudproj.api.errors import BadRequest, Conflict, NotFound, OverLimit
from cloudproj.exceptions import CloudError, OverQuota
from cloudproj.exceptions import Conflict as ServiceConflict
from cloudproj.exceptions import Invalid as ServiceInvalid
from cloudproj.exceptions import NotFound as ServiceNotFound
from identity.services import catalog, quotas
from identity.models import Project

API_VERSION = "3.0"
UPDATED = "2024-01-01T00:00:00Z"


def _requested_version(request):
    for part in request.headers.get("OpenStack-API-Version", "").split(","):
        words = part.split()
        if len(words) == 2 and words[0].lower() == "volume":
            return words[1].lower()
    return None


class VolumeView(APIView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        requested = _requested_version(request)
        if requested is None or requested == "latest":
            return
        try:
            major, minor = (int(x) for x in requested.split("."))
        except ValueError:
            raise BadRequest(f"Invalid API version request string {requested!r}.") from None
        if (major, minor) != (3, 0):
            raise NotAcceptable(
                f"Version {requested} is not supported by the API. Minimum is 3.0 and maximum is 3.0."
            )

    def handle_exception(self, exc):
        if isinstance(exc, CloudError):
            mapping = ((OverQuota, OverLimit), (ServiceNotFound, NotFound), (ServiceConflict, Conflict),
                       (ServiceInvalid, BadRequest))
            mapped = next((api(exc.message) for cls, api in mapping if isinstance(exc, cls)), None)
            if mapped is None:  # ServiceUnavailable 503 ...
                mapped = APIException(exc.message)
                mapped.status_code = exc.code
            exc = mapped
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["OpenStack-API-Version"] = f"volume {API_VERSION}"
        response["Vary"] = "OpenStack-API-Version"
        return response

    @property
    def ctx(self):
        return self.request.auth

    def check_url_project(self, project_id: str) -> None:
        """The project id in the URL must be the token's (Cinder: 'Malformed request URL')."""
        if project_id != self.ctx.project_id:
            raise BadRequest(
                f"Malformed request URL: URL's project_id '{project_id}' doesn't match "
                f"the token's project_id '{self.ctx.project_id}'."
            )


def get_project_or_404(project_id: str) -> Project:
    project = Project.objects.filter(id=project_id).first()
    if project is None:
        raise NotFound(f"Project {project_id} could not be found.")
    return project


def quota_error(exc: quotas.QuotaError):
    return BadRequest(str(exc))


def version_v3(request) -> dict:
    base = catalog.base_url(request)
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": API_VERSION,
        "min_version": API_VERSION,
        "updated": UPDATED,
        "links": [
            {"rel": "self", "href": f"{base}/volume/v3/"},
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
        ],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
        ],
    }
