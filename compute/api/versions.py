"""Compute version discovery: GET /compute/ and GET /compute/v2.1[/] (no token needed)."""
from rest_framework.response import Response

from .base import MAX_VERSION, MIN_VERSION, ComputeAPIView, compute_base

UPDATED = "2013-07-23T11:33:21Z"


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
        return Response({"versions": [version_v21(request)]}, status=200)


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
