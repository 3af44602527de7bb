"""Floating IPs under /network/v2.0/ (included by network/api/neutron/urls.py): a trailing
slash and the old clients' `.json` suffix are accepted. Announces the `floatingips` resource."""
from django.urls import re_path

from network.api.neutron import registry

from . import neutron

registry.add_resource("floatingip", "floatingips")  # `external-net`: announced by the registry itself

urlpatterns = [
    re_path(r"^floatingips(?:\.json|/)?$", neutron.FloatingIPCollection.as_view()),
    re_path(r"^floatingips/(?P<floatingip_id>[^/.]+)(?:\.json|/)?$", neutron.FloatingIPItem.as_view()),
]
