"""Security group calls under /compute/v2.1/ (with or without a trailing slash)."""
from django.urls import re_path

from . import groups, rules, server_groups

urlpatterns = [
    re_path(r"^os-security-groups/?$", groups.SecurityGroupCollection.as_view()),
    re_path(r"^os-security-groups/(?P<group_id>[^/]+)/?$", groups.SecurityGroupItem.as_view()),
    re_path(r"^os-security-group-rules/?$", rules.RuleCollection.as_view()),
    re_path(r"^os-security-group-rules/(?P<rule_id>[^/]+)/?$", rules.RuleItem.as_view()),
    re_path(r"^servers/(?P<server_id>[^/]+)/os-security-groups/?$",
            server_groups.ServerSecurityGroupsView.as_view()),
]
