"""Image API v2 (Glance) under /image/ (each path with and without a trailing slash).

  /image/, /image/versions         versions document (no token needed)
  /image/v2/images                 list (name, id=in:, visibility, status, limit/marker, sort)
  /image/v2/images/{id}            show
"""
from django.urls import re_path

from . import v2

urlpatterns = [
    re_path(r"^$", v2.VersionsView.as_view(), name="image-versions"),
    re_path(r"^versions/?$", v2.VersionsView.as_view()),
    re_path(r"^v2/?$", v2.VersionsView.as_view(), name="image-v2"),
    re_path(r"^v2/images/?$", v2.ImageListView.as_view(), name="image-list"),
    re_path(r"^v2/images/(?P<image_id>[^/]+)/?$", v2.ImageView.as_view(), name="image-detail"),
]
