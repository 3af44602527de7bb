"""/compute/v2.1/servers/{id}/remote-consoles and /os-console-auth-tokens/{token} (included from
compute.api.urls)."""
from django.urls import re_path

from consoles.api.views import ConsoleAuthTokenView, RemoteConsolesView

urlpatterns = [
    re_path(r"^servers/(?P<server_id>[^/]+)/remote-consoles/?$", RemoteConsolesView.as_view()),
    re_path(r"^os-console-auth-tokens/(?P<token>[^/]+)/?$", ConsoleAuthTokenView.as_view()),
]
