"""Shared pieces of the image APIs: the base view (image errors → OpenStack envelopes),
the Glance v2 representation of an image, and list filtering/paging."""
import uuid

from django.conf import settings
from django.db.models import Q
from rest_framework.views import APIView

from cloudproj.api.errors import BadRequest, Conflict, Forbidden, NotFound, OverLimit
from identity.services.policy import authorize
from images.services import registry
from images.models import Image

MAX_LIMIT = 1000
DEFAULT_LIMIT = 25
SORT_KEYS = {"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at",
             "visibility", "min_disk", "min_ram"}


def image_base(request) -> str:
    """Absolute URL of the image API root, e.g. http://h:8000/image (no trailing slash)."""
    if settings.PUBLIC_ENDPOINT:
        return settings.PUBLIC_ENDPOINT.rstrip("/") + "/image"
    return request.build_absolute_uri("/image").rstrip("/")


def glance_time(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def map_image_error(exc):
    if isinstance(exc, registry.ImageNotFound):
        return NotFound(exc.message)
    if isinstance(exc, registry.ImageConflict):
        return Conflict(exc.message)
    if isinstance(exc, registry.ImageForbidden):
        return Forbidden(exc.message)
    if isinstance(exc, registry.ImageTooLarge):
        return OverLimit(exc.message)
    if isinstance(exc, registry.ImageError):
        return BadRequest(exc.message)
    return exc


class ImageAPIView(APIView):
    @property
    def ctx(self):
        return self.request.auth

    def handle_exception(self, exc):
        return super().handle_exception(map_image_error(exc))

    def image(self, image_id, action: str | None = None) -> Image:
        """The image if visible to the caller (404 otherwise) and, with `action`, if the
        caller may do that to it (403: it is visible, so its existence is no secret)."""
        ctx = self.ctx
        image = registry.get_visible(image_id, ctx.project_id, ctx.is_admin)
        if action is not None:
            check(ctx, action, image)
        return image


def check(ctx, action: str, image: Image | None = None) -> None:
    # An image without an owner (registered by an operator) belongs to no project: only
    # admins pass the owner rules on it.
    target = {"project_id": (image.owner_id or "") if image is not None else ctx.project_id}
    if not authorize(ctx, action, target):
        raise Forbidden(f"Policy doesn't allow {action} to be performed.")


def glance_image(image: Image) -> dict:
    """Glance v2 image: core fields, then extra properties at the top level."""
    body = dict(image.properties)
    body.update({
        "id": str(image.id),
        "name": image.name or None,
        "status": image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "os_hidden": image.os_hidden,
        "owner": image.owner_id,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo,
        "os_hash_value": image.os_hash_value,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "tags": list(image.tags or []),
        "created_at": glance_time(image.created_at),
        "updated_at": glance_time(image.updated_at),
        "self": f"/v2/images/{image.id}",
        "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
    })
    return body


def parse_limit(value, maximum: int = MAX_LIMIT, default: int = DEFAULT_LIMIT) -> int:
    if value is None:
        return default
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise BadRequest("limit param must be an integer") from None
    if limit < 0:
        raise BadRequest("limit param must be positive")
    return min(limit, maximum)


def parse_ids(value: str) -> list[uuid.UUID]:
    """`in:a,b,c` (Glance's id filter) or a single id → list of UUIDs (bad ones match nothing)."""
    raw = value[3:] if value.startswith("in:") else value
    ids = []
    for item in raw.split(","):
        item = item.strip().strip('"')
        try:
            ids.append(uuid.UUID(item))
        except ValueError:
            continue
    return ids


def apply_marker(qs, marker_image: Image, order: list[str]):
    """Rows after `marker_image` in `order` (a list of field names, '-' for descending)."""
    conditions = Q()
    equal = Q()
    for field in order:
        name = field.lstrip("-")
        value = getattr(marker_image, "id" if name == "pk" else name)
        if value is None:
            continue
        op = "lt" if field.startswith("-") else "gt"
        conditions |= equal & Q(**{f"{name}__{op}": value})
        equal &= Q(**{name: value})
    return qs.filter(conditions)
