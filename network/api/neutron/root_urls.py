"""`/network` without a trailing slash: the catalog URL of the Networking API (clients append
/v2.0 themselves). cloudproj/urls.py includes this module at "network"."""
from django.urls import path

from .versions import VersionsView

urlpatterns = [path("", VersionsView.as_view(), name="network-versions-noslash")]
