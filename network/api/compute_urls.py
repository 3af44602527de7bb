"""nova-network calls under /compute/v2.1/ (with or without a trailing slash)."""
from django.urls import re_path

from . import networks

urlpatterns = [
    re_path(r"^os-networks/?$", networks.NetworkCollection.as_view()),
    re_path(r"^os-networks/add/?$", networks.NetworkAdd.as_view()),
    re_path(r"^os-networks/(?P<network_id>[^/]+)/action/?$", networks.NetworkAction.as_view()),
    re_path(r"^os-networks/(?P<network_id>[^/]+)/?$", networks.NetworkItem.as_view()),
]
