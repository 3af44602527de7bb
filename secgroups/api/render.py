"""Security groups and rules in Nova v2.1 (nova-network) shapes."""
from django.db.models import Prefetch

from ..models import SecurityGroupRule


def with_rules(groups):
    """The queryset with each group's rules (and their source groups) prefetched."""
    rules = SecurityGroupRule.objects.select_related("group").order_by("id")
    return groups.prefetch_related(Prefetch("rules", queryset=rules))


def rule_dict(rule) -> dict:
    return {
        "id": rule.pk,
        "parent_group_id": rule.parent_group_id,
        "ip_protocol": rule.protocol,
        "from_port": rule.from_port,
        "to_port": rule.to_port,
        "ip_range": {"cidr": rule.cidr} if rule.cidr else {},
        "group": {"name": rule.group.name, "tenant_id": rule.group.project_id} if rule.group_id else {},
    }


def group_dict(group) -> dict:
    return {
        "id": group.pk,
        "name": group.name,
        "description": group.description,
        "tenant_id": group.project_id,
        "rules": [rule_dict(rule) for rule in group.rules.all()],
    }
