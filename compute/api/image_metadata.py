"""Image metadata through the Compute v2.1 images proxy (`/images/{id}/metadata[/{key}]`),
Nova semantics over images.services.registry (metadata = the image's properties):

    GET    /metadata          {"metadata": {...}}
    POST   /metadata          merge the given items                    -> all of it
    PUT    /metadata          replace every property with the given    -> all of it
    GET    /metadata/{key}    {"meta": {key: value}}  (404 when missing)
    PUT    /metadata/{key}    body {"meta": {key: value}}, key as in the URL -> {"meta": ...}
    DELETE /metadata/{key}    204 (404 when missing)

Reading needs the image to be visible; writing, that the caller's project owns it (or an
admin): 403 otherwise. Keys and values are strings (as Nova's schema), and the number of items
is limited by the project's `metadata_items` quota (403 over it)."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, Conflict, Forbidden, NotFound
from compute.services import instances as instance_service
from identity.services.policy import authorize, enforce
from images.services import registry

from .base import ComputeAPIView

NOT_FOUND = "Image metadata item not found."


class ImageMetadataAPIView(ComputeAPIView):
    removed_in = (2, 39)  # Nova deprecated the image metadata proxy in 2.39

    def handle_exception(self, exc):
        if isinstance(exc, registry.ImageNotFound):
            exc = NotFound("Image not found.")
        elif isinstance(exc, registry.ImageForbidden):
            exc = Forbidden(exc.message)
        elif isinstance(exc, registry.ImageConflict):
            exc = Conflict(exc.message)
        elif isinstance(exc, registry.ImageError):
            exc = BadRequest(exc.message)
        return super().handle_exception(exc)

    def image(self, image_id, write: bool = False):
        ctx = self.ctx
        enforce(ctx, "compute:images:show")
        image = registry.get_visible(image_id, ctx.project_id, ctx.is_admin)
        if write and not authorize(ctx, "image:modify_image", {"project_id": image.owner_id or ""}):
            raise Forbidden("You are not authorized to modify this image's metadata.")
        return image

    def items(self, key: str = "metadata") -> dict:
        data = self.request.data
        if not isinstance(data, dict) or set(data) != {key} or not isinstance(data[key], dict):
            raise BadRequest(f"Malformed request body: expected {{\"{key}\": {{...}}}}.")
        return data[key]

    def write(self, image, new: dict) -> dict:
        """Make the image's properties `new` (validated, within the quota); returns them."""
        new = instance_service.validate_metadata(self.ctx.project, new)
        current = dict(image.properties)
        ops = [{"op": "remove", "path": f"/{key}"} for key in current if key not in new]
        ops += [{"op": "add", "path": f"/{key}", "value": value} for key, value in new.items()
                if current.get(key) != value]
        if ops:
            image = registry.update_image(image, [self._escaped(op) for op in ops])
        return dict(image.properties)

    @staticmethod
    def _escaped(op: dict) -> dict:
        key = op["path"][1:]
        return {**op, "path": "/" + key.replace("~", "~0").replace("/", "~1")}


class ImageMetadataView(ImageMetadataAPIView):
    def get(self, request, image_id):
        return Response({"metadata": dict(self.image(image_id).properties)})

    def post(self, request, image_id):
        image = self.image(image_id, write=True)
        items = self.items()
        return Response({"metadata": self.write(image, {**image.properties, **items})})

    def put(self, request, image_id):
        image = self.image(image_id, write=True)
        return Response({"metadata": self.write(image, dict(self.items()))})


class ImageMetadataItemView(ImageMetadataAPIView):
    def get(self, request, image_id, key):
        properties = self.image(image_id).properties
        if key not in properties:
            raise NotFound(NOT_FOUND)
        return Response({"meta": {key: properties[key]}})

    def put(self, request, image_id, key):
        image = self.image(image_id, write=True)
        items = self.items("meta")
        if len(items) > 1:
            raise BadRequest("Request body contains too many items")
        if key not in items:
            raise BadRequest("Request body and URI mismatch")
        self.write(image, {**image.properties, key: items[key]})
        return Response({"meta": {key: items[key]}})

    def delete(self, request, image_id, key):
        image = self.image(image_id, write=True)
        if key not in image.properties:
            raise NotFound(NOT_FOUND)
        self.write(image, {k: v for k, v in image.properties.items() if k != key})
        return Response(status=204)
