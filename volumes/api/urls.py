"""Block Storage v3 under /volume/ (each path with and without a trailing slash).

  /volume/                                      versions
  /volume/v3/, /volume/v3/{project_id}          version document
  /volume/v3/{project_id}/os-quota-sets/{target}[/defaults]
  /volume/v3/{project_id}/limits
"""
from django.urls import re_path

from .limits import LimitsView
from .quotas import QuotaSetDefaultsView, QuotaSetView
from .versions import VersionsView

PROJECT = r"(?P<project_id>[^/]+)"
TARGET = r"(?P<target_id>[^/]+)"

urlpatterns = [
    re_path(r"^$", VersionsView.as_view(), name="volume-versions"),
    re_path(r"^v3/?$", VersionsView.as_view(), name="volume-v3"),
    re_path(
        rf"^v3/{PROJECT}/os-quota-sets/{TARGET}/defaults/?$",
        QuotaSetDefaultsView.as_view(),
        name="volume-quota-defaults",
    ),
    re_path(rf"^v3/{PROJECT}/os-quota-sets/{TARGET}/?$", QuotaSetView.as_view(), name="volume-quota-set"),
    re_path(rf"^v3/{PROJECT}/limits/?$", LimitsView.as_view(), name="volume-limits"),
    re_path(rf"^v3/{PROJECT}/?$", VersionsView.as_view(), name="volume-v3-project"),
]
