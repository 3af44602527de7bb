"""Collection URLs with a trailing slash, i.e. an empty id, where Nova answers 404.

DELETE /compute/v2.1/images/ and /os-security-groups/ are deletes of id "" (404 as Nova, not
405); every other method is the collection's, which lives in its own app (reached by URL, not
imported: the API layers of the apps are independent). /os-volumes/ is volume "" for GET too
(Nova's show: 404)."""
from django.urls import resolve
from django.views.decorators.csrf import csrf_exempt

from cloudproj.api.errors import NotFound

from .base import ComputeAPIView


def _empty_id_view(message: str, methods=("DELETE",)):
    class EmptyId(ComputeAPIView):
        def get(self, request):
            raise NotFound(message)

        def delete(self, request):
            raise NotFound(message)

    empty_id_view = EmptyId.as_view()

    @csrf_exempt  # token-authenticated like every API view (a plain function is not exempt by itself)
    def view(request):
        if request.method in methods:
            return empty_id_view(request)
        match = resolve(request.path_info.rstrip("/"))
        return match.func(request, *match.args, **match.kwargs)

    return view


images_slash = _empty_id_view("Image not found.")
security_groups_slash = _empty_id_view("Security group  not found.")
volumes_slash = _empty_id_view("Volume  could not be found.", methods=("GET", "HEAD", "DELETE"))
