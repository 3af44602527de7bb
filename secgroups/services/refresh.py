"""Which instances a change affects, and telling their hosts (`secgroups.refresh_instance`
on compute.<host>, sent after the transaction commits).

An instance's chain holds the rules of its groups, with source groups expanded to their
members' fixed addresses. So:
- a rule added to / removed from group G affects the members of G;
- an instance joining or leaving group G (or getting or losing its addresses) affects the
  members of every group with a rule whose source is G.
"""
from cloudproj import rpc
from compute.models import Instance

from ..models import SecurityGroupMember, SecurityGroupRule


def members_of(group_ids):
    """Live instances in any of the groups."""
    ids = SecurityGroupMember.objects.filter(security_group_id__in=group_ids).values("instance_id")
    return Instance.objects.filter(pk__in=ids)


def instances_granted_by(group_ids):
    """Live members of the groups that have a rule with one of `group_ids` as source."""
    parents = SecurityGroupRule.objects.filter(group_id__in=group_ids).values_list("parent_group_id", flat=True)
    return members_of(parents)


def send(instances, exclude=()) -> list[str]:
    """Ask each placed instance's host to re-apply its chain. Returns the uuids sent."""
    skip = {str(u) for u in exclude}
    sent = []
    for instance in instances:
        uuid = str(instance.uuid)
        if instance.host and instance.deleted_at is None and uuid not in skip and uuid not in sent:
            rpc.refresh_instance_security_groups(instance.host, uuid)
            sent.append(uuid)
    return sent
