"""Images of the project: list (own, public, shared with it), upload (streamed to the image
store through images.services.registry.upload, the Image API's path: size cap and qemu-img checks),
edit name / visibility / properties, delete, and launch from an image. Policy: the Image
API's rules (images/policies.py), checked through images.api.common.check."""
from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from identity.services.policy import authorize, enforce
from images.services import registry
from images.api.common import check
from images.models import Image

from ..datatable import Column, Table
from ..project_forms import ImageEditForm, ImageUploadForm
from .common import dashboard_view

PAGE = "/dashboard/images/"
COLUMNS = [Column("name", "Name", ("name",)), Column("status", "Status", ("status",)),
           Column("format", "Format", ("disk_format",)), Column("size", "Size", ("size",)),
           Column("visibility", "Visibility", ("visibility",)), Column("owner", "Owner"),
           Column("created", "Created", ("created_at",)), Column("actions", "Actions")]


class CappedUploadHandler(TemporaryFileUploadHandler):
    """Spools the upload to a temporary file (never whole in memory) and stops reading once
    it passes IMAGE_SIZE_CAP, so an oversized upload is refused without being stored."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.IMAGE_SIZE_CAP:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)


def _may_publicize(ctx) -> bool:
    return authorize(ctx, "image:publicize_image", {"project_id": ctx.project_id})


def _image(ctx, image_id) -> Image:
    try:
        return registry.get_visible(image_id, ctx.project_id, ctx.is_admin)
    except registry.ImageNotFound as exc:
        raise Http404(exc.message) from None


@dashboard_view
def image_list(request):
    ctx = request.ctx
    enforce(ctx, "image:get_images", {"project_id": ctx.project_id})
    images = registry.visible_images(ctx.project_id, False).exclude(status=Image.DELETED)
    table = Table(request, images, COLUMNS, default="name", name="images")
    context = {"images": table.object_list, "table": table, "bulk_actions": (("delete", "Delete images", True),),
               "upload_form": ImageUploadForm(may_publicize=_may_publicize(ctx)),
               "may_upload": authorize(ctx, "image:add_image", {"project_id": ctx.project_id}),
               # a snapshot being saved: the table reloads itself until none is (see the template)
               "transitional": images.filter(status=Image.SAVING).exists(),
               "poll_seconds": settings.DASHBOARD_POLL_SECONDS}
    return render(request, "dashboard/images/list.html", context)


@require_GET
@dashboard_view
def image_detail(request, image_id):
    """One image: its facts, properties, who owns it, and its actions (launch, edit, delete)."""
    ctx = request.ctx
    image = _image(ctx, image_id)  # not visible to the project: 404
    check(ctx, "image:get_image", image)
    mine = image.owner_id == ctx.project_id or ctx.is_admin
    context = {"image": image, "label": image.name or str(image.id), "mine": mine,
               "properties": sorted(image.properties.items()),
               "launchable": image.status == Image.ACTIVE and (image.disk_format or "") not in ("aki", "ari"),
               "may_edit": mine and authorize(ctx, "image:modify_image", {"project_id": image.owner_id or ""}),
               "may_delete": mine and authorize(ctx, "image:delete_image", {"project_id": image.owner_id or ""}),
               "poll_seconds": settings.DASHBOARD_POLL_SECONDS}
    return render(request, "dashboard/images/detail.html", context)


@csrf_exempt  # the upload handler must be set before the body is read; CSRF is checked below
def image_upload(request):
    handler = CappedUploadHandler(request)
    request.upload_handlers = [handler]
    return _image_upload(request, handler)


@csrf_protect
@dashboard_view
def _image_upload(request, handler):
    ctx = request.ctx
    enforce(ctx, "image:add_image", {"project_id": ctx.project_id})
    form = ImageUploadForm(request.POST or None, request.FILES or None, may_publicize=_may_publicize(ctx))
    if request.method == "POST":
        if handler.too_large:
            form.add_error("file", f"The file is larger than the maximum image size of "
                                   f"{settings.IMAGE_SIZE_CAP} bytes.")
        elif form.is_valid():
            error = _create_with_data(ctx, form.cleaned_data)
            if error is None:
                messages.success(request, f"Image {form.cleaned_data['name']} uploaded.")
                return redirect(PAGE)
            form.add_error(None, error)
    status = 400 if form.errors else 200
    return render(request, "dashboard/images/upload.html", {"form": form}, status=status)


def _create_with_data(ctx, data) -> str | None:
    """Create the image and store its data; on any refusal nothing is left (the killed image
    is deleted). Returns the reason of a refusal, or None."""
    try:
        image = registry.create_image(
            data["name"], data["disk_format"], data["container_format"], owner=ctx.project,
            visibility=data["visibility"], min_disk=data["min_disk"] or 0, min_ram=data["min_ram"] or 0)
    except registry.ImageError as exc:
        return exc.message
    try:
        with data["file"].open("rb") as source:
            registry.upload(image, source)
    except registry.ImageError as exc:
        registry.delete_image(image)
        return exc.message
    except OSError as exc:
        registry.delete_image(image)
        return f"The upload did not complete: {exc}"
    return None


@dashboard_view
def image_edit(request, image_id):
    ctx = request.ctx
    image = _image(ctx, image_id)
    check(ctx, "image:modify_image", image)
    initial = {"name": image.name, "visibility": image.visibility,
               "properties": "\n".join(f"{k}={v}" for k, v in sorted(image.properties.items()))}
    form = ImageEditForm(request.POST or None, initial=initial, may_publicize=_may_publicize(ctx),
                         current_visibility=image.visibility)
    if request.method == "POST" and form.is_valid():
        try:
            registry.update_image(image, _patch(image, form.cleaned_data))
        except registry.ImageError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Image {form.cleaned_data['name'] or image.id} updated.")
            return redirect(PAGE)
    status = 400 if form.errors else 200
    return render(request, "dashboard/images/edit.html", {"form": form, "image": image}, status=status)


def _patch(image: Image, data: dict) -> list:
    """The JSON patch the Image API would take for this edit."""
    ops = [{"op": "replace", "path": "/name", "value": data["name"]}]
    if data["visibility"] != image.visibility:
        ops.append({"op": "replace", "path": "/visibility", "value": data["visibility"]})
    wanted = data["properties"]
    for key in image.properties:
        if key not in wanted:
            ops.append({"op": "remove", "path": "/" + _pointer(key)})
    for key, value in wanted.items():
        if image.properties.get(key) != value:
            ops.append({"op": "add", "path": "/" + _pointer(key), "value": value})
    return ops


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


@require_POST
@dashboard_view
def image_delete(request, image_id):
    ctx = request.ctx
    image = _image(ctx, image_id)
    check(ctx, "image:delete_image", image)
    try:
        registry.delete_image(image)
    except registry.ImageError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Image {image.name or image.id} deleted.")
    return redirect(PAGE)

