"""Compute version discovery: GET /compute/, GET /compute/v2.1[/] and the legacy
GET /compute/v2[/] (no token needed). v2.0 is listed as Nova lists it (SUPPORTED, no
microversions); only its version document is served, not the legacy v2.0 API itself."""
from rest_framework.response import Response

from .base import MAX_VERSION, MIN_VERSION, ComputeAPIView, compute_base

UPDATED = "2013-07-23T11:33:21Z"
UPDATED_V20 = "2011-01-21T11:33:21Z"


def version_v20(request) -> dict:
    return {
        "id": "v2.0",
        "status": "SUPPORTED",
        "version": "",
        "min_version": "",
        "updated": UPDATED_V20,
        "links": [{"rel": "self", "href": f"{compute_base(request)}/v2/"}],
    }


def version_v21(request) -> dict:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{compute_base(request)}/v2.1/"}],
    }


class VersionsView(ComputeAPIView):
    authentication_classes = []
    permission_classes = []
    check_microversion = False

    def get(self, request):
        return Response({"versions": [version_v20(request), version_v21(request)]}, status=200)


class VersionView(ComputeAPIView):
    authentication_classes = []
    permission_classes = []
    check_microversion = False

    def get(self, request):
        doc = version_v21(request)
        doc["media-types"] = [
            {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}
        ]
        return Response({"version": doc})


class LegacyVersionView(ComputeAPIView):
    """GET /compute/v2[/]: the v2.0 version document (Nova's v2-version-get-resp)."""

    authentication_classes = []
    permission_classes = []
    check_microversion = False

    def get(self, request):
        doc = version_v20(request)
        doc["links"].append({"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"})
        doc["media-types"] = [
            {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2"}
        ]
        return Response({"version": doc})
