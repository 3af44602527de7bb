"""Which instances are in which groups.

- groups_for_create(project_id, names): the groups a new server asks for (the `default`
  group, created when missing, when none is named); an unknown name is a 400. A group may
  be named by its UUID too (as Nova with Neutron: today's clients resolve the name through
  the Networking API and send the id).
- join(instances, groups): memberships of new servers (inside the create transaction).
- add_to_instance / remove_from_instance: the addSecurityGroup / removeSecurityGroup actions.
- release_instance(instance): on delete, the memberships go.

`Instance.security_groups` keeps the member groups' names for the server views.
"""
import logging

from django.db import transaction

from compute.models import Instance

from ..models import DEFAULT_GROUP, SecurityGroup, SecurityGroupMember
from . import InvalidSecurityGroup, SecurityGroupNotFound, refresh
from .groups import ensure_default, parse_uuid


def _find(project_id: str, name) -> SecurityGroup | None:
    """The project's group of that name, else of that UUID."""
    group = SecurityGroup.objects.filter(project_id=project_id, name=name).first()
    key = parse_uuid(name) if group is None else None
    if key is not None:
        group = SecurityGroup.objects.filter(project_id=project_id, uuid=key).first()
    return group

log = logging.getLogger(__name__)


def groups_for_create(project_id: str, names) -> list[SecurityGroup]:
    names = [n for n in dict.fromkeys(names or [])] or [DEFAULT_GROUP]
    groups: list[SecurityGroup] = []
    for name in names:
        if name == DEFAULT_GROUP:
            groups.append(ensure_default(project_id))
            continue
        group = _find(project_id, name)
        if group is None:
            raise InvalidSecurityGroup(f"Security group {name} not found for project {project_id}.")
        if group not in groups:  # the same group by name and by id: once
            groups.append(group)
    return groups


def join(instances, groups) -> None:
    SecurityGroupMember.objects.bulk_create(
        [SecurityGroupMember(instance=i, security_group=g) for i in instances for g in groups],
        ignore_conflicts=True,
    )


def groups_of(instance) -> list[SecurityGroup]:
    return list(SecurityGroup.objects.filter(members__instance=instance).order_by("members__id"))


def _save_names(instance) -> None:
    names = [g.name for g in groups_of(instance)]
    Instance.all_objects.filter(pk=instance.pk).update(security_groups=names)
    instance.security_groups = names


def _group_by_name(instance, name) -> SecurityGroup:
    if not isinstance(name, str) or not name.strip():
        raise InvalidSecurityGroup("Security group name cannot be empty.")
    if name == DEFAULT_GROUP:
        return ensure_default(instance.project_id)
    group = _find(instance.project_id, name)
    if group is None:
        raise SecurityGroupNotFound(f"Security group {name} not found.")
    return group


def _locked(instance) -> Instance:
    row = Instance.objects.select_for_update().filter(pk=instance.pk).first()
    if row is None:
        raise SecurityGroupNotFound(f"Instance {instance.uuid} could not be found.")
    return row


def add_to_instance(instance, name) -> SecurityGroup:
    group = _group_by_name(instance, name)
    with transaction.atomic():
        row = _locked(instance)
        if SecurityGroupMember.objects.filter(instance=row, security_group=group).exists():
            raise InvalidSecurityGroup(f"Security group {name} is already associated with the instance {row.uuid}.")
        SecurityGroupMember.objects.create(instance=row, security_group=group)
        _save_names(row)
        refresh.send([row, *refresh.instances_granted_by([group.pk])])
    instance.security_groups = row.security_groups
    log.info("instance %s added to security group %s", instance.uuid, group.pk)
    return group


def remove_from_instance(instance, name) -> SecurityGroup:
    group = _group_by_name(instance, name)
    with transaction.atomic():
        row = _locked(instance)
        deleted, _ = SecurityGroupMember.objects.filter(instance=row, security_group=group).delete()
        if not deleted:
            raise InvalidSecurityGroup(f"Security group {name} not associated with the instance {row.uuid}.")
        _save_names(row)
        refresh.send([row, *refresh.instances_granted_by([group.pk])])
    instance.security_groups = row.security_groups
    log.info("instance %s removed from security group %s", instance.uuid, group.pk)
    return group


def release_instance(instance) -> None:
    """The deleted instance leaves its groups; the members that admitted it forget its address."""
    group_ids = list(SecurityGroupMember.objects.filter(instance_id=instance.pk).values_list("security_group_id",
                                                                                             flat=True))
    if not group_ids:
        return
    affected = list(refresh.instances_granted_by(group_ids))
    SecurityGroupMember.objects.filter(instance_id=instance.pk).delete()
    refresh.send(affected, exclude=[instance.uuid])
