"""Floating IP calls under /compute/v2.1/ (with or without a trailing slash)."""
from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^os-floating-ip-pools/?$", views.FloatingIPPoolsView.as_view()),
    re_path(r"^os-floating-ips/?$", views.FloatingIPCollection.as_view()),
    re_path(r"^os-floating-ips/(?P<floating_ip_id>[^/]+)/?$", views.FloatingIPItem.as_view()),
]
