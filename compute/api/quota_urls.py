"""Quota sets and limits under /compute/v2.1/ (each path with and without a trailing slash)."""
from django.urls import re_path

from .limits import LimitsView
from .quotas import QuotaClassSetView, QuotaSetDefaultsView, QuotaSetDetailView, QuotaSetView

PROJECT = r"(?P<project_id>[^/]+)"

urlpatterns = [
    re_path(rf"^os-quota-sets/{PROJECT}/defaults/?$", QuotaSetDefaultsView.as_view(), name="compute-quota-defaults"),
    re_path(rf"^os-quota-sets/{PROJECT}/detail/?$", QuotaSetDetailView.as_view(), name="compute-quota-detail"),
    re_path(rf"^os-quota-sets/{PROJECT}/?$", QuotaSetView.as_view(), name="compute-quota-set"),
    re_path(r"^os-quota-class-sets/(?P<class_name>[^/]+)/?$", QuotaClassSetView.as_view(),
             name="compute-quota-class-set"),
    re_path(r"^limits/?$", LimitsView.as_view(), name="compute-limits"),
]
