"""Version documents: GET /volume/, /volume/v3/ and /volume/v3/{project_id} (no token needed).

The root (`/volume/`) lists the versions to choose from: 300 Multiple Choices, as Cinder
(and what tempest's list_versions schema expects); the v3 documents are a 200."""
from rest_framework.response import Response

from .common import VolumeView, version_v3


class VersionsView(VolumeView):
    authentication_classes = []
    permission_classes = []
    status = 200

    def get(self, request, project_id=None):
        return Response({"versions": [version_v3(request)]}, status=self.status)


class RootVersionsView(VersionsView):
    status = 300
