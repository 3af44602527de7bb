"""The version document at `/network` and the resource list at `/network/v2.0/`, and the
404 of an unknown URL under /network (Neutron's envelope)."""
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from cloudproj.api.neutron import NeutronAPIView, network_base, not_found

from . import registry


class VersionsView(NeutronAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        href = f"{network_base(request)}/v2.0/"
        return Response({"versions": [{"id": "v2.0", "status": "CURRENT",
                                       "links": [{"href": href, "rel": "self"}]}]})


class ResourcesView(NeutronAPIView):
    def get(self, request):
        base = f"{network_base(request)}/v2.0"
        return Response({"resources": [
            {"name": member, "collection": collection,
             "links": [{"href": f"{base}/{collection}", "rel": "self"}]}
            for member, collection in registry.RESOURCES
        ]})


class UnknownView(NeutronAPIView):
    """Any URL under /network that no resource serves: 404 in Neutron's envelope (after the
    token check, as Neutron behind keystonemiddleware: no token is a 401)."""

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def _missing(self, request, *args, **kwargs):
        raise not_found("The resource could not be found.")

    get = post = put = patch = delete = _missing
