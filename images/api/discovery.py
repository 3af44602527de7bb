"""Image API v2 discovery: the JSON Schemas (`/v2/schemas/...`) and `/v2/info/...`.

The schemas are built by images/api/schemas.py from the cloud's own definitions (formats,
visibilities, statuses, field widths), so a client validating against them agrees with the server.
"""
from django.db.models import Sum
from rest_framework.response import Response

from cloudproj.api.errors import NotFound
from identity.services.policy import enforce
from images.models import Image

from . import schemas
from .common import ImageAPIView

STORE_ID = "local"


class SchemaView(ImageAPIView):
    def get(self, request, name):
        if name not in schemas.NAMES:
            raise NotFound(f"No schema named {name}.")
        return Response(schemas.get(name))


class ImportInfoView(ImageAPIView):
    """Interoperable image import is not offered: data is uploaded with PUT .../file. The
    list of import methods is therefore empty (clients then use the upload)."""

    def get(self, request):
        return Response({"import-methods": {"description": "Import methods available.", "type": "array",
                                            "value": []}})


class StoresInfoView(ImageAPIView):
    """The one store: the local file store, the default."""

    def get(self, request):
        return Response({"stores": [{"id": STORE_ID, "description": "Local file store of the image service",
                                     "default": "true"}]})


class UsageInfoView(ImageAPIView):
    """The caller's project usage; this cloud sets no image quota (limit -1 = unlimited),
    as Glance answers without keystone limits."""

    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "image:get_images")
        mine = Image.objects.filter(owner_id=ctx.project_id) if ctx.project_id else Image.objects.none()
        size = mine.filter(status=Image.ACTIVE).aggregate(total=Sum("size"))["total"] or 0
        return Response({"usage": {
            "image_size_total": {"limit": -1, "usage": size // (1024 * 1024)},
            "image_count_total": {"limit": -1, "usage": mine.count()},
            "image_stage_total": {"limit": -1, "usage": 0},
            "image_count_uploading": {"limit": -1, "usage": mine.filter(status=Image.SAVING).count()},
        }})
