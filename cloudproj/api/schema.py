"""The OpenAPI schema (drf-spectacular) of views written as plain APIViews.

The API's views build OpenStack's JSON documents by hand (no DRF serializers), so by default
drf-spectacular would leave them out of the schema. Here each one is described as taking and
returning a JSON object, with its path parameters, methods and the token header: enough for
clients to find every operation and for the schema-driven fuzz test (tests/test_api_fuzz.py).
"""
import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes


class JsonDocumentSchema(AutoSchema):
    def _get_serializer(self):
        if getattr(self.view, "serializer_class", None) is None and not hasattr(self.view, "get_serializer"):
            return None
        return super()._get_serializer()

    def get_request_serializer(self):
        return self._get_serializer() or OpenApiTypes.OBJECT

    def get_response_serializers(self):
        return self._get_serializer() or OpenApiTypes.OBJECT

    def get_operation_id(self) -> str:
        """Unique per path and method (the same view is mounted under several paths)."""
        return self.method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", self.path)


class KeystoneTokenScheme(OpenApiAuthenticationExtension):
    target_class = "identity.api.authentication.KeystoneTokenAuthentication"
    name = "keystoneToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Auth-Token"}
