"""Shared pieces of the Block Storage v3 API: the base view (microversion negotiation, the
project id in the URL) and the version documents.

Microversions 3.0 to MAX_VERSION: a request may send `OpenStack-API-Version: volume X.Y` (or
`latest`, the maximum); none means 3.0, as Cinder. Every response echoes the negotiated
version (`OpenStack-API-Version: volume X.Y`). A version outside the range is a 406, a
malformed one a 400. What each step changes (see Cinder's REST API version history):

  3.1  `protected`/`visibility` for os-volume_upload_image: this cloud has no upload-to-image
       action at any version, so nothing to change.
  3.2  the `bootable` list filter is strict: only t/true/1 and f/false/0 (any case), anything
       else is a 400 (before 3.2: false/False means non-bootable, any other value bootable).
  3.3  the /messages API (user messages about failed asynchronous requests).
  3.4  the `glance_metadata` filter of volume lists (ignored before).
  3.5  pagination, sorting and filters of /messages (ignored before).
  3.6  empty name/description in consistency group update: this cloud has no consistency
       groups at any version, so nothing to change.
  3.7  /clusters (list, detail, show, enable/disable) and `cluster_name` in os-services: no
       volume service here is clustered, so the lists are empty and `cluster_name` is null.

MAX_VERSION is the highest version this API fully implements; 3.8 (manageable volumes and
snapshots) is not implemented, so neither is anything above it (3.12 volumes/summary, 3.27
attachments, 3.33 resource_filters...).
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

MIN_VERSION = (3, 0)
MAX_VERSION = (3, 7)
API_VERSION = "3.0"  # the version a request without the header gets
UPDATED = "2024-01-01T00:00:00Z"


def _requested_version(request):
    for part in request.headers.get("OpenStack-API-Version", "").split(","):
        words = part.split()
        if len(words) == 2 and words[0].lower() == "volume":
            return words[1].lower()
    return None


def text(version: tuple[int, int]) -> str:
    return "%d.%d" % version


def negotiate(request) -> tuple[int, int]:
    """The microversion a request asks for (3.0 without the header); 400 malformed, 406 out of range."""
    requested = _requested_version(request)
    if requested is None:
        return MIN_VERSION
    if requested == "latest":
        return MAX_VERSION
    parts = requested.split(".")
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 4 for p in parts):
        raise BadRequest(f"Invalid API version request string {requested!r}.")
    version = (int(parts[0]), int(parts[1]))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise NotAcceptable(f"Version {requested} is not supported by the API. Minimum is "
                            f"{text(MIN_VERSION)} and maximum is {text(MAX_VERSION)}.")
    return version


class VolumeView(APIView):
    def initial(self, request, *args, **kwargs):
        # negotiated before authentication so even a 401 carries the version
        request.volume_version = MIN_VERSION
        request.volume_version = negotiate(request)
        super().initial(request, *args, **kwargs)

    def at_least(self, version: str) -> bool:
        major, minor = version.split(".")
        return getattr(self.request, "volume_version", MIN_VERSION) >= (int(major), int(minor))

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
        version = getattr(request, "volume_version", MIN_VERSION)
        response["OpenStack-API-Version"] = f"volume {text(version)}"
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
        "version": text(MAX_VERSION),
        "min_version": text(MIN_VERSION),
        "updated": UPDATED,
        "links": [
            {"rel": "self", "href": f"{base}/volume/v3/"},
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
        ],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
        ],
    }
