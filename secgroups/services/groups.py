"""A project's security groups: lookups, the `default` group, create, update, delete.

Quota `security_groups` counts a project's groups (the `default` group too, which is created
on first use even when the quota is used up, as Nova's ensure_default does). Deleting the
`default` group or a group that still has members is refused (400, as nova-network).
"""
import logging
import re
import uuid as uuid_lib

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from compute.models import Instance
from identity.services import quotas

from ..models import EGRESS, DEFAULT_GROUP, SecurityGroup, SecurityGroupMember, SecurityGroupRule
from . import (GroupExists, InvalidSecurityGroup, SecurityGroupInUse, SecurityGroupNotFound, SecurityGroupOverQuota, SystemGroup,
               refresh)

log = logging.getLogger(__name__)

MAX_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ID = re.compile(r"^[0-9]{1,18}\Z")


def validate_text(value, field: str) -> str:
    """A group's name or description: a non-empty string of at most 255 printable characters."""
    if not isinstance(value, str):
        raise InvalidSecurityGroup(f"Security group {field} is not a string or unicode.")
    if not value.strip():
        raise InvalidSecurityGroup(f"Security group {field} should not be empty.")
    if len(value) > MAX_LENGTH:
        raise InvalidSecurityGroup(f"Security group {field} should not be greater than {MAX_LENGTH} characters.")
    if _CONTROL.search(value):
        raise InvalidSecurityGroup(f"Security group {field} must not contain control characters.")
    return value


def parse_id(group_id):
    """The integer id, or None when `group_id` cannot be one (such a group does not exist)."""
    if isinstance(group_id, bool):
        return None
    if isinstance(group_id, int):
        return group_id if group_id > 0 else None
    text = str(group_id).strip()
    return int(text) if _ID.match(text) else None


def parse_uuid(value) -> uuid_lib.UUID | None:
    """The UUID, or None when `value` is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return uuid_lib.UUID(value.strip())
    except ValueError:
        return None


def id_filter(value) -> dict | None:
    """The lookup for a group or rule named by its UUID (what both APIs show) or, for clients
    that kept one, its old integer id; None when `value` is neither."""
    key = parse_uuid(value)
    if key is not None:
        return {"uuid": key}
    key = parse_id(value)
    return {"pk": key} if key is not None else None


# --- lookups -------------------------------------------------------------------------------------


def groups_of_project(project_id: str):
    return SecurityGroup.objects.filter(project_id=project_id).order_by("id")


def get_group(group_id, project_id: str | None = None) -> SecurityGroup:
    """The group by id; limited to `project_id` unless None (admins). 404 otherwise."""
    key = id_filter(group_id)
    rows = SecurityGroup.objects.filter(**key) if key is not None else SecurityGroup.objects.none()
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    group = rows.first()
    if group is None:
        raise SecurityGroupNotFound(f"Security group {group_id} not found.")
    return group


def get_by_name(project_id: str, name: str) -> SecurityGroup:
    if name == DEFAULT_GROUP:
        return ensure_default(project_id)
    group = SecurityGroup.objects.filter(project_id=project_id, name=name).first()
    if group is None:
        raise SecurityGroupNotFound(f"Security group {name} not found for project {project_id}.")
    return group


# --- quota ---------------------------------------------------------------------------------------


def _count(project_id: str, delta: int) -> None:
    """Reserve and commit `delta` groups (OverQuota for a new group that does not fit)."""
    try:
        quotas.commit(quotas.reserve(project_id, {"security_groups": delta}))
    except quotas.OverQuota:
        raise SecurityGroupOverQuota("Quota exceeded, too many security groups.") from None


def _recount(project_id: str) -> None:
    quotas.usage_refresh(project_id, "security_groups", groups_of_project(project_id).count())


# --- default group -------------------------------------------------------------------------------


def ensure_default(project_id: str) -> SecurityGroup:
    """The project's `default` group, created (with its same-group rule) if missing."""
    group = SecurityGroup.objects.filter(project_id=project_id, name=DEFAULT_GROUP).first()
    if group is not None:
        return group
    with transaction.atomic():
        try:
            with transaction.atomic():
                group = SecurityGroup.objects.create(project_id=project_id, name=DEFAULT_GROUP,
                                                     description=DEFAULT_GROUP)
        except IntegrityError:  # created meanwhile by a concurrent request
            return SecurityGroup.objects.get(project_id=project_id, name=DEFAULT_GROUP)
        # inbound from the other members of `default`, every protocol; outbound: anything
        SecurityGroupRule.objects.create(parent_group=group, protocol=None, group=group)
        add_default_egress(group)
        _recount(project_id)
    log.info("created the default security group of project %s", project_id)
    return group


def add_default_egress(group: SecurityGroup) -> SecurityGroupRule:
    """Neutron's default egress rule of a new group: IPv4, every protocol, to anywhere.
    (Neutron adds the same for IPv6; this cloud has no IPv6.)"""
    return SecurityGroupRule.objects.create(parent_group=group, direction=EGRESS, protocol=None, cidr=None,
                                            group=None)


# --- create / update / delete --------------------------------------------------------------------


def bump_revision(group_id: int) -> None:
    SecurityGroup.objects.filter(pk=group_id).update(revision_number=models.F("revision_number") + 1,
                                                     updated_at=timezone.now())


def create_group(project_id: str, name, description) -> SecurityGroup:
    name = validate_text(name, "name")
    description = validate_text(description, "description") if description not in (None, "") else ""
    ensure_default(project_id)
    with transaction.atomic():
        if SecurityGroup.objects.filter(project_id=project_id, name=name).exists():
            raise GroupExists(f"Security group {name} already exists.")
        _count(project_id, 1)
        try:
            with transaction.atomic():
                group = SecurityGroup.objects.create(project_id=project_id, name=name, description=description)
                add_default_egress(group)
        except IntegrityError:
            raise GroupExists(f"Security group {name} already exists.") from None
    log.info("created security group %s (%s) of project %s", group.pk, name, project_id)
    return group


def update_group(group: SecurityGroup, name=None, description=None) -> SecurityGroup:
    if group.is_default:
        raise SystemGroup(f"Unable to update system group '{DEFAULT_GROUP}'.")
    changes = {}
    if name is not None:
        changes["name"] = validate_text(name, "name")
    if description is not None:
        changes["description"] = validate_text(description, "description") if description != "" else ""
    if changes.get("name") == DEFAULT_GROUP:
        raise GroupExists(f"Security group {DEFAULT_GROUP} already exists.")
    with transaction.atomic():
        row = SecurityGroup.objects.select_for_update().get(pk=group.pk)
        old_name = row.name
        for field, value in changes.items():
            setattr(row, field, value)
        if changes:
            row.revision_number += 1
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            raise GroupExists(f"Security group {changes['name']} already exists.") from None
        if row.name != old_name:
            rename_in_instances(row, old_name)
    return row


def rename_in_instances(group: SecurityGroup, old_name: str) -> None:
    """The renamed group's new name in its members' `security_groups` lists."""
    for instance in Instance.all_objects.filter(security_group_members__security_group=group):
        names = [group.name if n == old_name else n for n in (instance.security_groups or [])]
        Instance.all_objects.filter(pk=instance.pk).update(security_groups=names)


def delete_group(group: SecurityGroup, allow_default: bool = False) -> None:
    """Delete the group, its rules and the rules of other groups that name it as source. The
    `default` group only with `allow_default` (Neutron lets admins delete it; it is created again
    on the project's next use)."""
    if group.is_default and not allow_default:
        raise SystemGroup(f"Unable to delete system group '{DEFAULT_GROUP}'.")
    with transaction.atomic():
        row = SecurityGroup.objects.select_for_update().filter(pk=group.pk).first()
        if row is None:
            raise SecurityGroupNotFound(f"Security group {group.pk} not found.")
        if SecurityGroupMember.objects.filter(security_group=row, instance__deleted_at__isnull=True).exists():
            raise SecurityGroupInUse(f"Security group {row.uuid} is still in use.")
        affected = list(refresh.instances_granted_by([row.pk]))
        row.delete()
        _count(row.project_id, -1)
        refresh.send(affected)
    log.info("deleted security group %s (%s) of project %s", group.pk, group.name, group.project_id)
