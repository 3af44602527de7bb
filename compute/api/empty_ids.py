"""Collection URLs with a trailing slash, i.e. an empty id, where Nova answers 404.

/compute/v2.1/images/ : DELETE is a delete of image "" (404 as Nova, not 405); every other
method is the image list's, which lives in the images app (reached by URL, not imported:
the API layers of the apps are independent)."""
from django.urls import resolve

from cloudproj.api.errors import NotFound

from .base import ComputeAPIView


class _DeleteEmptyImageId(ComputeAPIView):
    def delete(self, request):
        raise NotFound("Image not found.")


_delete_empty_image_id = _DeleteEmptyImageId.as_view()


def images_slash(request):
    if request.method == "DELETE":
        return _delete_empty_image_id(request)
    match = resolve(request.path_info.rstrip("/"))
    return match.func(request, *match.args, **match.kwargs)
