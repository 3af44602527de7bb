"""URLs of the Networking API v2.0 under /network/ (cloudproj/urls.py includes this module at
"network/" and root_urls at "network", the catalog URL without a slash).

  /network, /network/              GET: the version document
  /network/v2.0, /network/v2.0/    GET: the resources served
  /network/v2.0/networks, subnets, ports, quotas, extensions  (this app)
  anything else under /network     404 in Neutron's envelope
Resource paths accept a trailing slash and the old clients' `.json` suffix.
"""
from django.urls import include, path, re_path

from . import extensions, networks, ports, quotas, versions

J = r"(?:\.json)?/?$"  # old clients' .json suffix, and a trailing slash
ID = r"(?P<{}>[^/.]+)"

v2_patterns = [
    # --- this app's resources (network/api/neutron/) ---
    re_path(r"^networks" + J, networks.NetworkCollection.as_view()),
    re_path(r"^networks/" + ID.format("network_id") + J, networks.NetworkItem.as_view()),
    re_path(r"^subnets" + J, networks.SubnetCollection.as_view()),
    re_path(r"^subnets/" + ID.format("subnet_id") + J, networks.SubnetItem.as_view()),
    re_path(r"^ports" + J, ports.PortCollection.as_view()),
    re_path(r"^ports/" + ID.format("port_id") + J, ports.PortItem.as_view()),
    re_path(r"^quotas" + J, quotas.QuotaCollection.as_view()),
    re_path(r"^quotas/" + ID.format("project_id") + "/details" + J, quotas.QuotaDetails.as_view()),
    re_path(r"^quotas/" + ID.format("project_id") + "/default" + J, quotas.QuotaDefault.as_view()),
    re_path(r"^quotas/" + ID.format("project_id") + J, quotas.QuotaItem.as_view()),
    re_path(r"^extensions" + J, extensions.ExtensionCollection.as_view()),
    re_path(r"^extensions/(?P<alias>[^/]+?)" + J, extensions.ExtensionItem.as_view()),

    # --- other apps' Neutron resources: ONE include line each, added by their owners ---
    path("", include("secgroups.api.neutron_urls")),  # secgroups (nsec)
    path("", include("floating.api.neutron_urls")),  # floating (nfip)
    # --- end of other apps' lines ---
]

urlpatterns = [
    path("", versions.VersionsView.as_view(), name="network-versions"),
    re_path(r"^v2\.0/?$", versions.ResourcesView.as_view(), name="network-resources"),
    path("v2.0/", include(v2_patterns)),
    re_path(r"^.*$", versions.UnknownView.as_view()),
]
