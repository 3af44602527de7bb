"""Version documents: GET /volume/, /volume/v3/ and /volume/v3/{project_id} (no token needed)."""
from rest_framework.response import Response

from .common import VolumeView, version_v3


class VersionsView(VolumeView):
    authentication_classes = []
    permission_classes = []

    def get(self, request, project_id=None):
        return Response({"versions": [version_v3(request)]})
