"""`/image` without a trailing slash (the catalog URL clients discover the Image API at).

cloudproj/urls.py includes images.api.urls at "image/", which does not match "/image";
the project URLconf should add this pattern (re_path(r"^image$", ...)) at its root.
"""
from django.urls import re_path

from .v2 import VersionsView

urlpatterns = [re_path(r"^image$", VersionsView.as_view(), name="image-versions-noslash")]
