"""/compute/v2.1/servers/{id}/remote-consoles (included from compute.api.urls)."""
from django.urls import re_path

from consoles.api.views import RemoteConsolesView

urlpatterns = [
    re_path(r"^servers/(?P<server_id>[^/]+)/remote-consoles/?$", RemoteConsolesView.as_view()),
]
