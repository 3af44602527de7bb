"""Policy: one rule per API action. Every view calls `enforce` (or `authorize`).

Roles and what they mean (the seeds' roles mapped onto Keystone's):
- `admin`, `cloudadmin`: everything, in every project (seeds: superuser roles).
- `member`, `developer`, `sysadmin`, `projectmanager`: use their own project's resources.
- `reader`: read-only access to their own project.
- `netadmin`: allocate/associate floating IPs and change firewall (security group) rules.
- `sysadmin`, `projectmanager`: also manage the project's members and images.
- `itsec`: quarantine (lock, pause, suspend) instances in any project.

A forbidden action is a 403; a resource of another project is reported as a 404 by the
view (see `check_owner`), so its existence is not disclosed.
Operators may replace a rule for an action with settings.POLICY_OVERRIDES {action: rule}.
"""
from collections.abc import Callable

from django.conf import settings

from cloudproj.api.errors import Forbidden, NotFound

from identity.services.context import RequestContext

WRITER_ROLES = frozenset({"member", "developer", "sysadmin", "projectmanager", "netadmin", "itsec"})
READER_ROLES = WRITER_ROLES | {"reader"}


def _owns(ctx: RequestContext, target: dict) -> bool:
    project_id = target.get("project_id")
    return project_id is None or project_id == ctx.project_id


def _user_matches(ctx: RequestContext, target: dict) -> bool:
    return target.get("user_id") == ctx.user_id


RULES: dict[str, Callable[[RequestContext, dict], bool]] = {
    "admin_api": lambda ctx, t: ctx.is_admin,
    "any_authenticated": lambda ctx, t: True,
    "project_reader_or_admin": lambda ctx, t: ctx.is_admin
    or (_owns(ctx, t) and ctx.has_role(*READER_ROLES)),
    "admin_or_owner": lambda ctx, t: ctx.is_admin or (_owns(ctx, t) and ctx.has_role(*WRITER_ROLES)),
    "netadmin": lambda ctx, t: ctx.is_admin or (_owns(ctx, t) and ctx.has_role("netadmin")),
    "sysadmin": lambda ctx, t: ctx.is_admin
    or (_owns(ctx, t) and ctx.has_role("sysadmin", "projectmanager")),
    "itsec": lambda ctx, t: ctx.is_admin or ctx.has_role("itsec"),
    "admin_or_user": lambda ctx, t: ctx.is_admin or _user_matches(ctx, t),
}

# action -> rule name. Apps add their actions here as they grow.
ACTIONS: dict[str, str] = {
    # identity
    "identity:get_project": "project_reader_or_admin",
    "identity:list_projects": "admin_api",
    "identity:create_project": "admin_api",
    "identity:update_project": "admin_api",
    "identity:delete_project": "admin_api",
    "identity:get_user": "admin_or_user",
    "identity:list_users": "admin_api",
    "identity:create_user": "admin_api",
    "identity:update_user": "admin_api",
    "identity:delete_user": "admin_api",
    "identity:change_password": "admin_or_user",
    "identity:list_user_projects": "admin_or_user",
    "identity:get_role": "any_authenticated",
    "identity:list_roles": "any_authenticated",
    "identity:create_role": "admin_api",
    "identity:update_role": "admin_api",
    "identity:delete_role": "admin_api",
    "identity:list_role_assignments": "admin_api",
    "identity:check_grant": "admin_api",
    "identity:create_grant": "admin_api",
    "identity:revoke_grant": "admin_api",
    "identity:ec2_list_credentials": "admin_or_user",
    "identity:ec2_get_credential": "admin_or_user",
    "identity:ec2_create_credential": "admin_or_user",
    "identity:ec2_delete_credential": "admin_or_user",
    "identity:get_domain_config_default": "admin_api",
    "identity:list_credentials": "admin_or_user",
    "identity:get_credential": "admin_or_user",
    "identity:create_credential": "admin_or_user",
    "identity:update_credential": "admin_or_user",
    "identity:delete_credential": "admin_or_user",
    "identity:validate_token": "admin_or_user",
    "identity:check_token": "admin_or_user",
    "identity:revoke_token": "admin_or_user",
    "identity:list_domains": "any_authenticated",
    "identity:get_domain": "any_authenticated",
    "identity:list_grants": "admin_api",
    "identity:create_domain": "admin_api",
    "identity:update_domain": "admin_api",
    "identity:delete_domain": "admin_api",
    "identity:list_groups": "admin_api",
    "identity:get_group": "admin_api",
    "identity:create_group": "admin_api",
    "identity:update_group": "admin_api",
    "identity:delete_group": "admin_api",
    "identity:list_users_in_group": "admin_api",
    "identity:add_user_to_group": "admin_api",
    "identity:check_user_in_group": "admin_api",
    "identity:remove_user_from_group": "admin_api",
    "identity:list_groups_for_user": "admin_or_user",
    "identity:list_regions": "any_authenticated",
    "identity:get_region": "any_authenticated",
    "identity:create_region": "admin_api",
    "identity:update_region": "admin_api",
    "identity:delete_region": "admin_api",
    "identity:list_services": "admin_api",
    "identity:get_service": "admin_api",
    "identity:create_service": "admin_api",
    "identity:update_service": "admin_api",
    "identity:delete_service": "admin_api",
    "identity:list_endpoints": "admin_api",
    "identity:get_endpoint": "admin_api",
    "identity:create_endpoint": "admin_api",
    "identity:update_endpoint": "admin_api",
    "identity:delete_endpoint": "admin_api",
    "identity:list_application_credentials": "admin_or_user",
    "identity:get_application_credential": "admin_or_user",
    "identity:create_application_credential": "admin_or_user",
    "identity:delete_application_credential": "admin_or_user",
    "identity:list_registered_limits": "any_authenticated",
    "identity:get_registered_limit": "any_authenticated",
    "identity:create_registered_limits": "admin_api",
    "identity:update_registered_limit": "admin_api",
    "identity:delete_registered_limit": "admin_api",
    "identity:list_limits": "any_authenticated",
    "identity:get_limit": "project_reader_or_admin",
    "identity:get_limit_model": "any_authenticated",
    "identity:create_limits": "admin_api",
    "identity:update_limit": "admin_api",
    "identity:delete_limit": "admin_api",
    "identity:create_implied_role": "admin_api",
    "identity:get_implied_role": "admin_api",
    "identity:check_implied_role": "admin_api",
    "identity:list_implied_roles": "admin_api",
    "identity:list_role_inference_rules": "admin_api",
    "identity:delete_implied_role": "admin_api",
    "identity:create_policy": "admin_api",
    "identity:list_endpoint_groups": "admin_api",
    "identity:get_endpoint_group": "admin_api",
    "identity:create_endpoint_group": "admin_api",
    "identity:update_endpoint_group": "admin_api",
    "identity:delete_endpoint_group": "admin_api",
    "identity:get_policy": "admin_api",
    "identity:list_policies": "admin_api",
    "identity:update_policy": "admin_api",
    "identity:delete_policy": "admin_api",
    # compute: flavors
    "compute:flavors:list": "any_authenticated",
    "compute:flavors:show": "any_authenticated",
    "compute:flavors:create": "admin_api",
    "compute:flavors:update": "admin_api",
    "compute:flavors:delete": "admin_api",
    "compute:flavor_extra_specs:index": "any_authenticated",
    "compute:flavor_extra_specs:show": "any_authenticated",
    "compute:flavor_extra_specs:create": "admin_api",
    "compute:flavor_extra_specs:update": "admin_api",
    "compute:flavor_extra_specs:delete": "admin_api",
    "compute:flavor_access:list": "admin_api",
    "compute:flavor_access:add_tenant_access": "admin_api",
    "compute:flavor_access:remove_tenant_access": "admin_api",
    # compute: operators
    "compute:services:list": "admin_api",
    "compute:services:update": "admin_api",
    "compute:services:delete": "admin_api",
    "compute:hypervisors:list": "admin_api",
    "compute:hypervisors:show": "admin_api",
    "compute:hypervisors:statistics": "admin_api",
    "compute:hypervisors:uptime": "admin_api",
    "compute:aggregates:index": "admin_api",
    "compute:availability_zone:list": "any_authenticated",
    "compute:availability_zone:detail": "admin_api",
    # quotas and limits
    "compute:quota_sets:show": "project_reader_or_admin",
    "compute:quota_sets:defaults": "any_authenticated",
    "compute:quota_sets:detail": "project_reader_or_admin",
    "compute:quota_sets:update": "admin_api",
    "compute:quota_sets:delete": "admin_api",
    "compute:quota_class_sets:show": "admin_api",  # the defaults every project starts from
    "compute:quota_class_sets:update": "admin_api",
    "compute:limits": "any_authenticated",
    "compute:limits:other_project": "admin_api",
    "volume:quota_sets:show": "project_reader_or_admin",
    "volume:quota_sets:defaults": "any_authenticated",
    "volume:quota_sets:update": "admin_api",
    "volume:quota_sets:delete": "admin_api",
    "volume:limits": "any_authenticated",
    "volume:limits:other_project": "admin_api",
}


def register(actions: dict[str, str]) -> None:
    """Apps add their own actions from `<app>/policies.py` (imported in AppConfig.ready)."""
    for action, rule in actions.items():
        if rule not in RULES:
            raise KeyError(f"unknown policy rule {rule!r} for {action!r}")
        ACTIONS[action] = rule


def rule_for(action: str) -> str:
    overrides = getattr(settings, "POLICY_OVERRIDES", {}) or {}
    if action in overrides:
        return overrides[action]
    try:
        return ACTIONS[action]
    except KeyError:
        raise KeyError(f"no policy rule for action {action!r}; add it to identity.services.policy.ACTIONS") from None


def authorize(ctx: RequestContext, action: str, target: dict | None = None) -> bool:
    return RULES[rule_for(action)](ctx, target or {})


def enforce(ctx: RequestContext, action: str, target: dict | None = None) -> None:
    """Raise unless `ctx` may perform `action` on `target` ({project_id, user_id}).

    Refused because the target belongs to another project: 404 (its existence is not
    disclosed). Refused an admin-only action, or a role the user lacks: 403.
    """
    target = target or {}
    if authorize(ctx, action, target):
        return
    rule = rule_for(action)
    if rule != "admin_api" and not _owns(ctx, target):
        raise NotFound("The resource could not be found.")
    raise Forbidden(f"Policy doesn't allow {action} to be performed.")


def check_owner(ctx: RequestContext, project_id: str | None, what: str = "resource") -> None:
    """404 for a resource of another project (unless admin): its existence is not disclosed."""
    if not ctx.is_admin and project_id is not None and project_id != ctx.project_id:
        raise NotFound(f"The {what} could not be found.")
