"""Image API v2 (Glance) under /image/ (each path with and without a trailing slash).

  /image/, /image/versions         versions document (no token needed)
  /image/v2/images                 list (name, id=in:, visibility, status, limit/marker, sort)
  /image/v2/images/{id}            show, patch, delete
  /image/v2/images/{id}/file       upload (PUT, streamed) and download (GET, streamed)
  /image/v2/images/{id}/actions/deactivate|reactivate
  /image/v2/images/{id}/members[/{member_id}]
"""
from django.urls import re_path

from . import data, members, v2

ID = r"(?P<image_id>[^/]+)"

urlpatterns = [
    re_path(r"^$", v2.VersionsView.as_view(), name="image-versions"),
    re_path(r"^versions/?$", v2.VersionsView.as_view()),
    re_path(r"^v2/?$", v2.VersionsView.as_view(), name="image-v2"),
    re_path(r"^v2/images/?$", v2.ImageListView.as_view(), name="image-list"),
    re_path(rf"^v2/images/{ID}/?$", v2.ImageView.as_view(), name="image-detail"),
    re_path(rf"^v2/images/{ID}/file/?$", data.ImageFileView.as_view(), name="image-file"),
    re_path(rf"^v2/images/{ID}/actions/(?P<action>deactivate|reactivate)/?$", v2.ImageActionView.as_view(),
            name="image-action"),
    re_path(rf"^v2/images/{ID}/members/?$", members.MemberListView.as_view(), name="image-members"),
    re_path(rf"^v2/images/{ID}/members/(?P<member_id>[^/]+)/?$", members.MemberView.as_view(),
            name="image-member"),
]
