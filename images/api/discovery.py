"""Image API v2 discovery: the JSON Schemas (`/v2/schemas/...`) and `/v2/info/...`.

The schema documents are Glance's, as its API reference gives them (images/api/schemas/*.json),
with the image's enums (visibility, disk_format, container_format) set to what this cloud
accepts, so a client validating against the schema agrees with the server.
"""
import copy
import json
from functools import cache
from pathlib import Path

from django.db.models import Sum
from rest_framework.response import Response

from cloudproj.api.errors import NotFound
from identity.services.policy import enforce
from images.models import CONTAINER_FORMATS, DISK_FORMATS, Image

from .common import ImageAPIView

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMAS = ("image", "images", "member", "members", "metadefs/namespace", "metadefs/namespaces",
           "metadefs/object", "metadefs/objects", "metadefs/property", "metadefs/properties", "metadefs/tag",
           "metadefs/tags", "metadefs/resource_type", "metadefs/resource_types")
STORE_ID = "local"


def _image_schema(schema: dict) -> dict:
    props = schema["properties"]
    props["visibility"]["enum"] = list(Image.VISIBILITIES)
    props["disk_format"]["enum"] = [None, *DISK_FORMATS]
    props["container_format"]["enum"] = [None, *CONTAINER_FORMATS]
    return schema


@cache
def schema(name: str) -> dict:
    with open(SCHEMA_DIR / (name.replace("/", "-") + ".json")) as handle:
        document = json.load(handle)
    if name == "image":
        _image_schema(document)
    elif name == "images":
        _image_schema(document["properties"]["images"]["items"])
    return document


class SchemaView(ImageAPIView):
    def get(self, request, name):
        if name not in SCHEMAS:
            raise NotFound(f"No schema named {name}.")
        return Response(copy.deepcopy(schema(name)))


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
