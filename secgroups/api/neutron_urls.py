"""The security group resources of the Networking API (included by network/api/neutron/urls.py
under /network/v2.0/; a trailing slash and the old clients' `.json` suffix are accepted)."""
from django.urls import re_path

from network.api.neutron import registry

from . import neutron

registry.add_resource("security_group", "security-groups")
registry.add_resource("security_group_rule", "security-group-rules")
registry.add_extension("security-group", "security-group", "The security groups extension.")
# standard-attr-description and standard-attr-timestamp (which these resources have too) are
# announced by the plumbing (network/api/neutron/registry.py)

_END = r"(?:\.json)?/?$"

urlpatterns = [
    re_path(r"^security-groups" + _END, neutron.SecurityGroupCollection.as_view()),
    re_path(r"^security-groups/(?P<group_id>[^/.]+)" + _END, neutron.SecurityGroupItem.as_view()),
    re_path(r"^security-group-rules" + _END, neutron.RuleCollection.as_view()),
    re_path(r"^security-group-rules/(?P<rule_id>[^/.]+)" + _END, neutron.RuleItem.as_view()),
]
