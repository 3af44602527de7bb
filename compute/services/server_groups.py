"""Server groups: a policy (affinity, anti-affinity, soft-affinity, soft-anti-affinity) over
the servers created with the `group` scheduler hint.

    create_group(ctx, name, policy, rules=None) -> ServerGroup
    list_groups(ctx, all_projects=False) / get_group(ctx, id) / delete_group(ctx, id)
    member_uuids(group) -> [uuid]              members not deleted, oldest first
    group_for_create(ctx, hints) -> group|None the `group` hint of a create (400 if unknown)
    add_members(group, instances)              in the create transaction
    member_hosts(group_uuid, exclude=None) -> {host: count}
    check_on_host(instance, host)              the late check the host runs before building

The scheduler's filters and weighers (compute.scheduler.filters.server_group,
compute.scheduler.weighers.server_group) read member_hosts. Two builds scheduled at the same
time can still both pick one host (each scheduler sees the other's claim only once made):
the host's late check, serialised on the group's row, sends the extra one back to the
scheduler, as Nova's compute manager does.
"""
import uuid as uuid_lib

from django.db import transaction
from django.db.models import Count

from cloudproj.exceptions import Conflict, Invalid, NotFound, OverQuota
from identity.services import quotas

from ..models import Instance, ServerGroup, ServerGroupMember
from ..scheduling_models import AFFINITY, ANTI_AFFINITY, POLICIES, SOFT_AFFINITY, SOFT_ANTI_AFFINITY

HARD_POLICIES = (AFFINITY, ANTI_AFFINITY)
SOFT_POLICIES = (SOFT_AFFINITY, SOFT_ANTI_AFFINITY)
MAX_PER_HOST_LIMIT = 0x7FFFFFFF


class GroupPolicyViolation(Conflict):
    """The host cannot take the instance without breaking its group's policy (rescheduled)."""


def validate_name(name) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        raise Invalid("Invalid input for field/attribute name: a string of 1 to 255 characters is required.")
    if name.strip() != name:
        raise Invalid("Invalid input for field/attribute name: leading or trailing whitespace is not allowed.")
    return name


def validate_policy(policy, allowed=POLICIES) -> str:
    if policy not in allowed:
        raise Invalid(f"Invalid input for field/attribute policy: {policy!r} is not one of {', '.join(allowed)}.")
    return policy


def validate_rules(policy: str, rules) -> dict:
    """Only anti-affinity takes a rule: max_server_per_host, a positive integer."""
    rules = {} if rules is None else rules
    if not isinstance(rules, dict):
        raise Invalid("Invalid input for field/attribute rules: must be an object.")
    if not rules:
        return {}
    if policy != ANTI_AFFINITY:
        raise Invalid("Invalid input for field/attribute rules: only the anti-affinity policy takes rules.")
    extra = sorted(set(rules) - {"max_server_per_host"})
    if extra:
        raise Invalid(f"Invalid input for field/attribute rules: unknown rule {extra[0]!r}.")
    value = rules["max_server_per_host"]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PER_HOST_LIMIT:
        raise Invalid("Invalid input for field/attribute max_server_per_host: must be a positive integer.")
    return {"max_server_per_host": value}


def create_group(ctx, name, policy, rules=None, allowed=POLICIES) -> ServerGroup:
    name = validate_name(name)
    policy = validate_policy(policy, allowed)
    rules = validate_rules(policy, rules)
    project = getattr(ctx, "project", None)
    if project is not None:
        try:
            count = ServerGroup.objects.filter(project_id=ctx.project_id).count()
            quotas.check_absolute(project, {"server_groups": count + 1})
        except quotas.OverQuota:
            raise OverQuota("Quota exceeded, too many server groups.") from None
    return ServerGroup.objects.create(
        name=name, policy=policy, rules=rules, project_id=ctx.project_id or "", user_id=ctx.user_id or "",
    )


def list_groups(ctx, all_projects: bool = False):
    qs = ServerGroup.objects.all()
    if not (all_projects and getattr(ctx, "is_admin", False)):
        qs = qs.filter(project_id=ctx.project_id)
    return qs.order_by("created_at", "id")


def get_group(ctx, group_id) -> ServerGroup:
    """The group by uuid; another project's (for non-admins) is reported missing."""
    try:
        key = uuid_lib.UUID(str(group_id))
    except ValueError:
        raise NotFound(f"Instance group {group_id} could not be found.") from None
    group = ServerGroup.objects.filter(uuid=key).first()
    if group is None or (
        ctx is not None and not getattr(ctx, "is_admin", False) and group.project_id != ctx.project_id
    ):
        raise NotFound(f"Instance group {group_id} could not be found.")
    return group


def delete_group(ctx, group_id) -> None:
    """Removes the group; its servers stay (and are no longer placed by it)."""
    get_group(ctx, group_id).delete()


def member_uuids(group: ServerGroup) -> list[str]:
    """Members whose instance is not deleted (a deleted server leaves its group)."""
    uuids = list(group.members.values_list("instance_uuid", flat=True))
    alive = set(Instance.objects.filter(uuid__in=uuids).values_list("uuid", flat=True))
    return [str(u) for u in uuids if u in alive]


def members_by_group(groups) -> dict:
    """{group id: [member uuid, ...]} for a page of groups, in two queries."""
    rows = list(ServerGroupMember.objects.filter(group__in=list(groups)).values_list("group_id", "instance_uuid"))
    alive = set(Instance.objects.filter(uuid__in=[u for _g, u in rows]).values_list("uuid", flat=True))
    result: dict = {}
    for group_id, instance_uuid in rows:
        if instance_uuid in alive:
            result.setdefault(group_id, []).append(str(instance_uuid))
    return result


# --- create -----------------------------------------------------------------------------------


def group_for_create(ctx, hints) -> ServerGroup | None:
    """The group named by the create's `group` hint: a uuid of a group of the project (400
    otherwise, as Nova answers for an unknown group)."""
    value = (hints or {}).get("group")
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    try:
        key = uuid_lib.UUID(str(value))
    except ValueError:
        raise Invalid(f"Invalid input for field/attribute group: {value!r} is not a uuid.") from None
    group = ServerGroup.objects.filter(uuid=key).first()
    if group is None or (not getattr(ctx, "is_admin", False) and group.project_id != ctx.project_id):
        raise Invalid(f"Invalid server group: {value} could not be found.")
    return group


def add_members(group: ServerGroup | None, instances, project=None) -> None:
    """In the create transaction; over the server_group_members quota of `project`: 403."""
    if group is None:
        return
    if project is not None:
        try:
            quotas.check_absolute(project, {"server_group_members": len(member_uuids(group)) + len(instances)})
        except quotas.OverQuota:
            raise OverQuota("Quota exceeded, too many servers in group.") from None
    ServerGroupMember.objects.bulk_create(
        [ServerGroupMember(group=group, instance_uuid=instance.uuid) for instance in instances]
    )


# --- placement -------------------------------------------------------------------------------


def group_of(instance_uuid) -> ServerGroup | None:
    if not instance_uuid:
        return None
    member = ServerGroupMember.objects.filter(instance_uuid=instance_uuid).select_related("group").first()
    return member.group if member else None


def member_hosts(group: ServerGroup, exclude=None) -> dict[str, int]:
    """{host: members placed there} over the group's live members (but `exclude`)."""
    uuids = ServerGroupMember.objects.filter(group=group).values_list("instance_uuid", flat=True)
    qs = Instance.objects.filter(uuid__in=uuids, host__isnull=False).exclude(host="")
    if exclude:
        qs = qs.exclude(uuid=exclude)
    return {row["host"]: row["n"] for row in qs.values("host").annotate(n=Count("id"))}


def host_problem(group: ServerGroup, hosts: dict[str, int], host: str) -> str | None:
    """Why `host` breaks a hard policy given the other members' `hosts` (None when it does not)."""
    if group.policy == ANTI_AFFINITY and hosts.get(host, 0) >= group.max_server_per_host:
        return (f"anti-affinity group {group.uuid} already has {hosts[host]} server(s) on {host} "
                f"(max_server_per_host {group.max_server_per_host})")
    if group.policy == AFFINITY and hosts and host not in hosts:
        return f"affinity group {group.uuid} has its servers on {', '.join(sorted(hosts))}, not on {host}"
    return None


def check_on_host(instance: Instance, host: str) -> None:
    """The host's late check (Nova's _validate_instance_group_policy): serialised on the
    group's row, so of two builds that picked one host at the same time, the second sees the
    first and is sent back to the scheduler (GroupPolicyViolation; its claim is released and
    its host cleared here, inside the lock, so the first never counts it)."""
    from ..scheduler import claims

    member = ServerGroupMember.objects.filter(instance_uuid=instance.uuid).first()
    if member is None:
        return
    with transaction.atomic():
        group = ServerGroup.objects.select_for_update().filter(pk=member.group_id).first()
        if group is None or group.policy not in HARD_POLICIES:
            return
        problem = host_problem(group, member_hosts(group, exclude=instance.uuid), host)
        if problem is None:
            return
        claims.release(host, instance, clear_host=True)
    raise GroupPolicyViolation(f"Build of instance {instance.uuid} on {host} was re-scheduled: {problem}.")
