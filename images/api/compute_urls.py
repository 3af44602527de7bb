"""The images proxy of Compute v2.1, included at /compute/v2.1/ (with or without a trailing slash)."""
from django.urls import re_path

from . import nova

urlpatterns = [
    re_path(r"^images/?$", nova.ImageCollection.as_view(), name="compute-images"),
    re_path(r"^images/detail/?$", nova.ImageDetailListView.as_view(), name="compute-images-detail"),
    re_path(r"^images/(?P<image_id>[^/]+)/?$", nova.ImageView.as_view(), name="compute-image"),
]
