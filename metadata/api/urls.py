"""URLconf of the metadata service (its own WSGI entry, metadata.wsgi; never the API's)."""
from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^(?P<path>.*)\Z", views.metadata, name="metadata"),
]

handler404 = "metadata.api.views.handler404"
handler500 = "metadata.api.views.handler500"
