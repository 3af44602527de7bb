"""The Compute v2.1 images proxy (/compute/v2.1/images...): list, show and delete, as Nova
renders Glance images (status ACTIVE/SAVING/..., minDisk/minRam, metadata = properties)."""
from urllib.parse import urlencode

from django.utils.dateparse import parse_datetime
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.api.base import PROXY_REMOVED_IN, ComputeAPIView, compute_base, parse_int
from identity.services.policy import enforce
from images.services import registry

from .common import apply_marker, check, image_base, map_image_error

STATUS = {
    "queued": "SAVING", "saving": "SAVING", "active": "ACTIVE", "killed": "ERROR",
    "deleted": "DELETED", "deactivated": "ERROR",
}
PROGRESS = {"queued": 25, "saving": 50, "active": 100}
MAX_LIMIT = 1000


def _time(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _links(request, image) -> list[dict]:
    base = compute_base(request)
    return [
        {"rel": "self", "href": f"{base}/v2.1/images/{image.id}"},
        {"rel": "bookmark", "href": f"{base}/images/{image.id}"},
        {"rel": "alternate", "type": "application/vnd.openstack.image",
         "href": f"{image_base(request)}/images/{image.id}"},
    ]


def summary(request, image) -> dict:
    return {"id": str(image.id), "name": image.name or None, "links": _links(request, image)}


def detail(request, image) -> dict:
    body = {
        "id": str(image.id),
        "name": image.name or None,
        "status": STATUS.get(image.status, "UNKNOWN"),
        "progress": PROGRESS.get(image.status, 0),
        "minDisk": image.min_disk,
        "minRam": image.min_ram,
        "created": _time(image.created_at),
        "updated": _time(image.updated_at),
        "metadata": dict(image.properties),
        "links": _links(request, image),
        "OS-EXT-IMG-SIZE:size": image.size,
    }
    instance_uuid = image.properties.get("instance_uuid")
    if instance_uuid:
        base = compute_base(request)
        body["server"] = {"id": instance_uuid, "links": [
            {"rel": "self", "href": f"{base}/v2.1/servers/{instance_uuid}"},
            {"rel": "bookmark", "href": f"{base}/servers/{instance_uuid}"},
        ]}
    return body


class ProxyView(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def handle_exception(self, exc):
        if isinstance(exc, registry.ImageNotFound):
            exc = NotFound("Image not found.")
        return super().handle_exception(map_image_error(exc))


class ImageCollection(ProxyView):
    detail = False

    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:images:list")
        params = request.query_params
        qs = registry.visible_images(ctx.project_id, ctx.is_admin).filter(os_hidden=False)
        if "name" in params:
            qs = qs.filter(name=params["name"])
        if "status" in params:
            wanted = [k for k, v in STATUS.items() if v == params["status"].upper()]
            qs = qs.filter(status__in=wanted)
        if "server" in params:  # an id or the server's URL (Nova keeps what follows the last '/')
            qs = qs.filter(properties__instance_uuid=params["server"].rstrip("/").rsplit("/", 1)[-1])
        if "type" in params:
            qs = qs.filter(properties__image_type=params["type"])
        if "minRam" in params:
            qs = qs.filter(min_ram__gte=parse_int(params["minRam"], "minRam"))
        if "minDisk" in params:
            qs = qs.filter(min_disk__gte=parse_int(params["minDisk"], "minDisk"))
        if "changes-since" in params:
            since = parse_datetime(params["changes-since"])
            if since is None:
                raise BadRequest(f"Invalid changes-since value {params['changes-since']}")
            qs = qs.filter(updated_at__gte=since)
        qs = qs.order_by("-created_at", "-id")
        limit = parse_int(params["limit"], "limit", 0, 2**31) if "limit" in params else MAX_LIMIT
        limit = min(limit, MAX_LIMIT)
        marker = params.get("marker")
        if marker:
            try:
                m = registry.get_visible(marker, ctx.project_id, ctx.is_admin)
            except registry.ImageNotFound:
                raise BadRequest(f"marker [{marker}] not found") from None
            qs = apply_marker(qs, m, ["-created_at", "-id"])
        page = list(qs[: limit + 1])
        has_more = len(page) > limit
        page = page[:limit]
        render = detail if self.detail else summary
        body = {"images": [render(request, image) for image in page]}
        if has_more and page:
            query = {k: v for k, v in params.items() if k != "marker"}
            query.update({"limit": limit, "marker": str(page[-1].id)})
            path = "images/detail" if self.detail else "images"
            body["images_links"] = [{"rel": "next", "href": f"{compute_base(request)}/v2.1/{path}?{urlencode(query)}"}]
        return Response(body)


class ImageDetailListView(ImageCollection):
    detail = True


class ImageView(ProxyView):
    def get(self, request, image_id):
        ctx = self.ctx
        enforce(ctx, "compute:images:show")
        image = registry.get_visible(image_id, ctx.project_id, ctx.is_admin)
        return Response({"image": detail(request, image)})

    def delete(self, request, image_id):
        ctx = self.ctx
        image = registry.get_visible(image_id, ctx.project_id, ctx.is_admin)
        check(ctx, "compute:images:delete", image)
        registry.delete_image(image)
        return Response(status=204)

