"""One URL space for every API, devstack-style prefixes on one port.

  /identity/          Identity (Keystone v3; also /v3 and the seeds' /v2.0 at the root)
  /compute/           Compute v2.1
  /volume/            Block Storage v3
  /image/             Image v2
  /network/           Networking v2.0 (Neutron's API over nova-network; also /network, the catalog URL)
  /ec2/               the EC2 Query API (boto3, the aws CLI; signed with EC2 credentials)
  /admin/             Django admin
  /dashboard/         the web dashboard (sessions)
  /vnc/               the noVNC console page (?token=); /vnc/websockify is the ASGI proxy
  /api/schema/        OpenAPI schema
  /metrics            Prometheus metrics (METRICS_ALLOWED_CIDRS)
"""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from . import views
from .observability.views import metrics

urlpatterns = [
    path("identity/", include("identity.api.urls")),
    path("", include("identity.api.root_urls")),
    path("compute/", include("compute.api.urls")),
    path("volume/", include("volumes.api.urls")),
    path("", include("images.api.root_urls")),  # /image without the slash (the catalog URL)
    path("image/", include("images.api.urls")),
    path("network", include("network.api.neutron.root_urls")),  # the catalog URL, no slash
    path("network/", include("network.api.neutron.urls")),
    path("ec2/", include("ec2.api.urls")),
    path("ec2", include("ec2.api.root_urls")),  # an endpoint_url without the slash
    path("admin/", admin.site.urls),
    path("dashboard/", include("dashboard.urls")),
    path("vnc/", include("consoles.api.page_urls")),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny]),
        name="openapi-schema",
    ),
    path("metrics", metrics, name="metrics"),
    path("", views.home, name="home"),
]

handler400 = "cloudproj.api.errors.handler400"
handler403 = "cloudproj.api.errors.handler403"
handler404 = "cloudproj.api.errors.handler404"
handler500 = "cloudproj.api.errors.handler500"
