"""GET /v3/role_assignments beyond direct grants: OS-INHERIT grants (as such, or with
?effective one entry per project they reach) and implied roles (?effective adds the roles a
grant implies, drops domain-specific roles: what tokens carry, identity.services.context)."""
from django.db.models import Q

from identity.services import role_rules
from identity.services.context import implied_closure
from ..models import InheritedRoleAssignment, Role
from .bodies import domain_ref


def _inherit_link(row: InheritedRoleAssignment, v3: str) -> str:
    target = f"projects/{row.project_id}" if row.project_id else f"domains/{row.domain_id}"
    actor = f"users/{row.user_id}" if row.user_id else f"groups/{row.group_id}"
    return f"{v3}/OS-INHERIT/{target}/{actor}/roles/{row.role_id}/inherited_to_projects"


def _actor(user=None, group=None, include_names=False) -> tuple[str, dict]:
    who = user if user is not None else group
    ref = {"id": who.id}
    if include_names:
        ref.update(name=user.username if user is not None else group.name, domain=domain_ref(who.domain_id))
    return ("user" if user is not None else "group"), ref


def _role_ref(role: Role, include_names: bool) -> dict:
    return {"id": role.id, "name": role.name} if include_names else {"id": role.id}


def _project_scope(project, include_names: bool) -> dict:
    ref = {"id": project.id}
    if include_names:
        ref.update(name=project.name, domain=domain_ref(project.domain_id))
    return {"project": ref}


def inherited_entries(params, effective: bool, v3: str, include_names: bool) -> list[dict]:
    rows = InheritedRoleAssignment.objects.select_related("user", "group", "role", "project", "domain")
    if params.get("role.id"):
        rows = rows.filter(role_id=params["role.id"])
    if params.get("group.id"):
        rows = rows.filter(group_id=params["group.id"])
    if params.get("user.id"):
        user_id = params["user.id"]
        rows = rows.filter(Q(user_id=user_id) | Q(group__users=user_id)) if effective else rows.filter(user_id=user_id)
    if "scope.system" in params:
        return []
    entries = []
    for row in rows.distinct().order_by("created_at", "id"):
        link = _inherit_link(row, v3)
        if not effective:
            if params.get("scope.project.id") and row.project_id != params["scope.project.id"]:
                continue
            if params.get("scope.domain.id") and row.domain_id != params["scope.domain.id"]:
                continue
            target = row.project if row.project_id else row.domain
            scope_key = "project" if row.project_id else "domain"
            scope = {scope_key: {"id": target.id}, "OS-INHERIT:inherited_to": "projects"}
            if include_names:
                scope[scope_key]["name"] = target.name
            key, actor = _actor(row.user, row.group, include_names)
            entries.append({"role": _role_ref(row.role, include_names), key: actor, "scope": scope,
                            "links": {"assignment": link}})
            continue
        if params.get("scope.domain.id"):
            continue
        members = [row.user] if row.user_id else list(row.group.users.order_by("username"))
        if params.get("user.id"):
            members = [m for m in members if m.id == params["user.id"]]
        for project in role_rules.inherited_targets(row):
            if params.get("scope.project.id") and project.id != params["scope.project.id"]:
                continue
            for user in members:
                links = {"assignment": link}
                if row.group_id:
                    links["membership"] = f"{v3}/groups/{row.group_id}/users/{user.id}"
                key, actor = _actor(user, None, include_names)
                entries.append({"role": _role_ref(row.role, include_names), key: actor,
                                "scope": _project_scope(project, include_names), "links": links})
    return entries


def effective_roles_of(entries: list[dict], v3: str, include_names: bool) -> list[dict]:
    """Each entry plus one per role its role implies (with a `prior_role` link), less the
    entries of domain-specific roles (they never reach a token)."""
    role_ids = {entry["role"]["id"] for entry in entries}
    closures = {role_id: implied_closure({role_id}) for role_id in role_ids}
    roles = {role.id: role for role in Role.objects.filter(pk__in=set().union(*closures.values()))}
    out = []
    for entry in entries:
        prior = entry["role"]["id"]
        for role_id in [prior, *sorted(closures[prior] - {prior})]:
            role = roles.get(role_id)
            if role is None or role.domain_id is not None:
                continue
            if role_id == prior:
                out.append(entry)
                continue
            implied = {**entry, "role": _role_ref(role, include_names), "links": dict(entry["links"])}
            implied["links"]["prior_role"] = f"{v3}/roles/{prior}"
            out.append(implied)
    return out
