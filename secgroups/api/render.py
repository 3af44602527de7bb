"""Security groups and rules in Nova v2.1 (nova-network) shapes.

Ids are the UUIDs (what Nova shows with Neutron; the Networking API shows the same ones).
Only ingress rules are shown: the compute API's rules have no direction (Nova with Neutron
lists egress rules as if they were ingress, which misleads; egress rules are managed through
the Networking API)."""
from django.db.models import Prefetch

from ..models import INGRESS, SecurityGroupRule


def with_rules(groups):
    """The queryset with each group's rules (and their source groups) prefetched."""
    rules = SecurityGroupRule.objects.select_related("group", "parent_group").order_by("id")
    return groups.prefetch_related(Prefetch("rules", queryset=rules))


def rule_dict(rule) -> dict:
    return {
        "id": str(rule.uuid),
        "parent_group_id": str(rule.parent_group.uuid),
        "ip_protocol": rule.protocol,
        "from_port": rule.from_port,
        "to_port": rule.to_port,
        "ip_range": {"cidr": rule.cidr} if rule.cidr else {},
        "group": {"name": rule.group.name, "tenant_id": rule.group.project_id} if rule.group_id else {},
    }


def group_dict(group) -> dict:
    return {
        "id": str(group.uuid),
        "name": group.name,
        "description": group.description,
        "tenant_id": group.project_id,
        "rules": [rule_dict(rule) for rule in group.rules.all() if rule.direction == INGRESS],
    }
