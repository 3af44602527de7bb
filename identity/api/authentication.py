"""DRF authentication from `X-Auth-Token`; request.auth becomes a RequestContext."""
from rest_framework import authentication, permissions

from cloudproj.middleware import current_request_id

from identity.services import tokens


class KeystoneTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        token_id = request.headers.get("X-Auth-Token")
        if not token_id:
            return None
        context = tokens.context_for(token_id)  # raises AuthenticationFailed
        context.request_id = current_request_id.get()
        return context.user, context

    def authenticate_header(self, request):
        return 'Keystone uri="/identity"'


class IsAuthenticatedWithToken(permissions.BasePermission):
    """Every API view needs a valid token unless it opts out (version documents, token issue)."""

    def has_permission(self, request, view):
        return request.auth is not None
