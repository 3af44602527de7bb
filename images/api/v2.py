"""Image API v2 (Glance): versions; list, create, show, patch and delete images;
deactivate / reactivate. Image data: data.py; members: members.py."""
import json
from urllib.parse import urlencode

from django.db.models import Q
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from identity.services.policy import enforce
from images.services import registry
from images.models import Image, ImageMember

from .common import (
    SORT_KEYS, ImageAPIView, apply_marker, check, glance_image, image_base, parse_ids, parse_limit,
)

CREATE_FIELDS = {"id", "name", "visibility", "protected", "min_disk", "min_ram", "disk_format",
                 "container_format", "tags", "os_hidden"}
PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
# The older media type (json-patch draft 10: {"replace": "/name", "value": ...}), still what
# some clients (tempest among them) send; Glance accepts both.
PATCH_TYPE_D10 = "application/openstack-images-v2.0-json-patch"
MAX_PATCH_BYTES = 1024 * 1024

VERSIONS = [("v2.18", "CURRENT")] + [(f"v2.{n}", "SUPPORTED") for n in range(17, -1, -1) if n != 2]
LIST_PARAMS = {"limit", "marker", "sort", "sort_key", "sort_dir", "name", "id", "visibility", "status",
               "owner", "disk_format", "container_format", "member_status", "os_hidden", "tag",
               "size_min", "size_max", "protected", "created_at", "updated_at"}


class VersionsView(ImageAPIView):
    """The versions document: 300 Multiple Choices at the root (as Glance answers a request
    that names no version), 200 at /versions."""
    authentication_classes = []
    permission_classes = []
    explicit = False

    def get(self, request):
        href = f"{image_base(request)}/v2/"
        return Response({
            "versions": [
                {"id": vid, "status": status, "links": [{"rel": "self", "href": href}]}
                for vid, status in VERSIONS
            ]
        }, status=200 if self.explicit else 300)


def _order(params) -> list[str]:
    keys: list[tuple[str, str]] = []
    if "sort" in params:
        for item in params["sort"].split(","):
            key, _, direction = item.strip().partition(":")
            keys.append((key, direction or "desc"))
    else:
        sort_keys = params.getlist("sort_key") or ["created_at"]
        sort_dirs = params.getlist("sort_dir") or ["desc"]
        for i, key in enumerate(sort_keys):
            keys.append((key, sort_dirs[i] if i < len(sort_dirs) else sort_dirs[-1]))
    order = []
    for key, direction in keys:
        if key not in SORT_KEYS:
            raise BadRequest(f"Unsupported sort_key: {key}")
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Unsupported sort_dir: {direction}")
        order.append(("-" if direction == "desc" else "") + key)
    if not any(o.lstrip("-") == "id" for o in order):
        order.append("-id" if order[-1].startswith("-") else "id")
    return order


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise BadRequest(f"Invalid value for {name}: {value}")


def _member_filter(qs, ctx, member_status: str):
    """Shared images of other projects are listed by their member status (accepted unless
    asked otherwise), as Glance does; owners and admins are not filtered."""
    if member_status not in (*ImageMember.STATUSES, "all"):
        raise BadRequest(f"Invalid member_status value: {member_status}")
    if ctx.is_admin or not ctx.project_id:
        return qs
    as_member = Q(visibility=Image.SHARED) & ~_own(ctx)
    wanted = Q(members__member_id=ctx.project_id)
    if member_status != "all":
        wanted &= Q(members__status=member_status)
    return qs.exclude(as_member & ~Q(pk__in=Image.all_objects.filter(wanted).values("pk")))


def _json_body(request, what: str):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("Invalid Content-Length.") from None
    if length > MAX_PATCH_BYTES:
        raise BadRequest(f"The {what} is too large.")
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"Malformed {what}: not JSON.") from None


def _from_draft10(ops):
    """[{"add": "/p", "value": v}, {"remove": "/q"}] → RFC 6902 operations."""
    if not isinstance(ops, list):
        raise BadRequest("A JSON patch must be a list of operations.")
    converted = []
    for op in ops:
        names = [k for k in ("add", "replace", "remove") if isinstance(op, dict) and k in op]
        if len(names) != 1:
            raise BadRequest('Operation objects must contain exactly one member named "add", "remove", or '
                             '"replace".')
        change = {"op": names[0], "path": op[names[0]]}
        if "value" in op:
            change["value"] = op["value"]
        converted.append(change)
    return converted


def _check_visibility(ctx, visibility) -> None:
    if visibility == Image.PUBLIC:
        check(ctx, "image:publicize_image")
    elif visibility == Image.COMMUNITY:
        check(ctx, "image:communitize_image")


class ImageCreateMixin:
    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "image:add_image")
        body = _json_body(request, "request body")
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        owner = body.get("owner", ctx.project_id)
        if owner != ctx.project_id and not ctx.is_admin:  # Glance: only an admin gives images away
            raise registry.ImageForbidden("You are not permitted to create images owned by another project.")
        readonly = sorted(k for k in body if k in registry.CORE_FIELDS and k not in CREATE_FIELDS | {"owner"})
        if readonly:
            raise registry.ImageForbidden(f"Attribute '{readonly[0]}' is read-only.")
        reserved = sorted(k for k in body if isinstance(k, str) and k.startswith(registry.RESERVED_PREFIX))
        if reserved:
            raise registry.ImageForbidden(f"Attribute '{reserved[0]}' is reserved.")
        _check_visibility(ctx, body.get("visibility"))
        image = registry.create_image(
            body.get("name") or "", body.get("disk_format"), body.get("container_format"),
            owner=ctx.project if owner == ctx.project_id else owner, visibility=body.get("visibility"),
            properties={k: v for k, v in body.items() if k not in CREATE_FIELDS | {"owner"}},
            min_disk=body.get("min_disk", 0), min_ram=body.get("min_ram", 0),
            protected=body.get("protected", False), image_id=body.get("id"), tags=body.get("tags"),
        )
        if body.get("os_hidden"):
            image = registry.update_image(image, [{"op": "replace", "path": "/os_hidden", "value": body["os_hidden"]}])
        response = Response(glance_image(image), status=201)
        response["Location"] = f"{image_base(request)}/v2/images/{image.id}"
        return response


class ImageListView(ImageCreateMixin, ImageAPIView):
    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "image:get_images")
        params = request.query_params
        qs = registry.visible_images(ctx.project_id, ctx.is_admin)
        visibility = params.get("visibility")
        if visibility is None:
            # Glance: community images are listed only on request (or when they are yours).
            qs = qs.exclude(~_own(ctx) & Q(visibility=Image.COMMUNITY))
        elif visibility != "all":
            if visibility not in Image.VISIBILITIES:
                raise BadRequest(f"Invalid visibility value: {visibility}")
            qs = qs.filter(visibility=visibility)
        qs = _member_filter(qs, ctx, params.get("member_status", ImageMember.ACCEPTED))
        if "os_hidden" in params:
            qs = qs.filter(os_hidden=_bool(params["os_hidden"], "os_hidden"))
        else:
            qs = qs.filter(os_hidden=False)
        if "id" in params:
            qs = qs.filter(id__in=parse_ids(params["id"]))
        for field in ("name", "status", "disk_format", "container_format"):
            if field in params:
                value = params[field]
                if value.startswith("in:"):
                    qs = qs.filter(**{f"{field}__in": [v.strip('"') for v in value[3:].split(",")]})
                else:
                    qs = qs.filter(**{field: value})
        if "owner" in params:
            qs = qs.filter(owner_id=params["owner"] or None)
        if "protected" in params:
            qs = qs.filter(protected=_bool(params["protected"], "protected"))
        for key in ("size_min", "size_max"):
            if key in params:
                try:
                    size = int(params[key])
                except ValueError:
                    raise BadRequest(f"Invalid value for {key}: {params[key]}") from None
                qs = qs.filter(**{("size__gte" if key == "size_min" else "size__lte"): size})
        if "tag" in params:
            for tag in params.getlist("tag"):
                qs = qs.filter(tags__contains=[tag])
        extra = {k: v for k, v in params.items() if k not in LIST_PARAMS}
        if extra:
            qs = qs.filter(properties__contains=extra)
        order = _order(params)
        qs = qs.order_by(*order)
        limit = parse_limit(params.get("limit"))
        marker = params.get("marker")
        if marker:
            try:
                marker_image = registry.get_visible(marker, ctx.project_id, ctx.is_admin)
            except registry.ImageNotFound:
                raise BadRequest(f"Invalid marker. Image {marker} could not be found.") from None
            qs = apply_marker(qs, marker_image, order)
        page = list(qs[: limit + 1])
        has_more = len(page) > limit
        page = page[:limit]
        query = {k: v for k, v in params.items() if k != "marker"}
        body = {
            "images": [glance_image(image) for image in page],
            "schema": "/v2/schemas/images",
            "first": "/v2/images" + (f"?{urlencode(query)}" if query else ""),
        }
        if has_more and page:
            query["marker"] = str(page[-1].id)
            body["next"] = f"/v2/images?{urlencode(query)}"
        return Response(body)


def _own(ctx) -> Q:
    return Q(owner_id=ctx.project_id) if ctx.project_id else Q(pk__in=[])


class ImageView(ImageAPIView):
    def get(self, request, image_id):
        ctx = self.ctx
        enforce(ctx, "image:get_image")
        image = registry.get_visible(image_id, ctx.project_id, ctx.is_admin)
        return Response(glance_image(image))

    def patch(self, request, image_id):
        ctx = self.ctx
        image = self.image(image_id, "image:modify_image")
        content_type = request.content_type.split(";")[0].strip()
        if content_type not in (PATCH_TYPE, PATCH_TYPE_D10, "application/json-patch+json"):
            raise UnsupportedMediaType(content_type, f"Unsupported Content-Type {content_type!r}; use {PATCH_TYPE}.")
        ops = _json_body(request, "JSON patch")
        if content_type == PATCH_TYPE_D10:
            ops = _from_draft10(ops)
        for op in ops if isinstance(ops, list) else []:
            if isinstance(op, dict) and op.get("path") == "/visibility" and op.get("op") != "remove":
                _check_visibility(ctx, op.get("value"))
        return Response(glance_image(registry.update_image(image, ops, may_set_owner=ctx.is_admin)))

    def delete(self, request, image_id):
        image = self.image(image_id, "image:delete_image")
        registry.delete_image(image)
        return Response(status=204)


class ImageTagView(ImageAPIView):
    """PUT / DELETE /v2/images/{id}/tags/{tag} → 204."""

    def put(self, request, image_id, tag):
        registry.add_tag(self.image(image_id, "image:modify_image"), tag)
        return Response(status=204)

    def delete(self, request, image_id, tag):
        registry.remove_tag(self.image(image_id, "image:modify_image"), tag)
        return Response(status=204)


class ImageActionView(ImageAPIView):
    """POST /v2/images/{id}/actions/deactivate|reactivate → 204."""

    def post(self, request, image_id, action):
        image = self.image(image_id, f"image:{action}")
        (registry.deactivate if action == "deactivate" else registry.reactivate)(image)
        return Response(status=204)
