"""GET /v2.0/extensions and /v2.0/extensions/{alias}: exactly the extensions served (the list
is network/api/neutron/registry.py; each app adds its own)."""
from rest_framework.response import Response

from cloudproj.api.neutron import NeutronAPIView, not_found
from identity.services.policy import enforce

from . import registry


class ExtensionCollection(NeutronAPIView):
    def get(self, request):
        enforce(self.ctx, "network:get_extension")
        return Response({"extensions": [e.as_dict() for e in registry.extensions()]})


class ExtensionItem(NeutronAPIView):
    def get(self, request, alias):
        enforce(self.ctx, "network:get_extension")
        extension = registry.EXTENSIONS.get(alias)
        if extension is None:
            raise not_found(f"Extension with alias {alias} does not exist", "HTTPNotFound")
        return Response({"extension": extension.as_dict()})
