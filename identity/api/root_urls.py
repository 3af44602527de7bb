"""Root aliases: `/identity` (no slash; OS_AUTH_URL often has none), `/v3/...` and the
seeds' `/v2.0/...`."""
from django.urls import include, path, re_path

from . import token_views

urlpatterns = [
    re_path(r"^identity$", token_views.VersionListView.as_view()),
    re_path(r"^v3/?$", token_views.V3VersionView.as_view()),
    path("v3/", include("identity.api.v3_urls")),
    re_path(r"^v2\.0/?$", token_views.V2VersionView.as_view()),
    re_path(r"^v2\.0/tokens/?$", token_views.V2TokensView.as_view()),
]
