"""/v3/roles, project grants (/v3/projects/{p}/users/{u}/roles/{r}) and /v3/role_assignments."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound

from identity.services import accounts
from ..models import DomainRoleAssignment, Group, GroupRoleAssignment, Role, RoleAssignment
from identity.services.policy import enforce
from . import assignment_expansion
from .bodies import domain_role_assignment_body, group_role_assignment_body, role_assignment_body, role_body
from .common import (
    IdentityView,
    bool_query,
    checked_name,
    checked_domain_id,
    checked_text,
    delete_or_conflict,
    duplicate_to_conflict,
    get_domain,
    get_project,
    get_role,
    get_user,
)


def _role_changes(ref: dict, role: Role | None = None) -> dict:
    """What a create (`role` None) or update body sets; a role's domain is fixed at creation."""
    changes = {}
    if "name" in ref:
        changes["name"] = checked_name(ref["name"])
    if "description" in ref:
        changes["description"] = checked_text(ref["description"], "description", 255)
    if role is None:
        changes["domain_id"] = checked_domain_id(ref.get("domain_id"))
    elif "domain_id" in ref and ref["domain_id"] != role.domain_id:
        raise BadRequest("Update of `domain_id` is not allowed.")
    return changes


class RoleListView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_roles")
        roles = Role.objects.all()
        if "name" in request.query_params:
            roles = roles.filter(name=request.query_params["name"])
        # Keystone: the global roles, or with ?domain_id= that domain's own roles
        roles = roles.filter(domain_id=request.query_params.get("domain_id") or None)
        return Response({"roles": [role_body(r, self.v3_url()) for r in roles], "links": self.collection_links()})

    def post(self, request):
        enforce(self.ctx, "identity:create_role")
        ref = self.body_object("role")
        if "name" not in ref:
            raise BadRequest("Invalid input for field 'name': 'name' is a required property.")
        role = duplicate_to_conflict(accounts.save_role, Role(), **_role_changes(ref))
        return Response({"role": role_body(role, self.v3_url())}, status=201)


class RoleDetailView(IdentityView):
    def get(self, request, role_id):
        enforce(self.ctx, "identity:get_role")
        return Response({"role": role_body(get_role(role_id), self.v3_url())})

    def patch(self, request, role_id):
        enforce(self.ctx, "identity:update_role")
        role = get_role(role_id)
        role = duplicate_to_conflict(accounts.save_role, role, **_role_changes(self.body_object("role"), role))
        return Response({"role": role_body(role, self.v3_url())})

    def delete(self, request, role_id):
        enforce(self.ctx, "identity:delete_role")
        delete_or_conflict(get_role(role_id), "role")
        return Response(status=204)


class ProjectUserRolesView(IdentityView):
    """GET /v3/projects/{p}/users/{u}/roles: the roles granted on that project (not global ones)."""

    def get(self, request, project_id, user_id):
        enforce(self.ctx, "identity:list_grants", {"project_id": project_id, "user_id": user_id})
        project, user = get_project(project_id), get_user(user_id)
        roles = Role.objects.filter(assignments__user=user, assignments__project=project).distinct()
        return Response({"roles": [role_body(r, self.v3_url()) for r in roles], "links": self.collection_links()})


class ProjectUserRoleGrantView(IdentityView):
    def _grant(self, action: str, project_id: str, user_id: str, role_id: str):
        enforce(self.ctx, action, {"project_id": project_id, "user_id": user_id})
        return get_project(project_id), get_user(user_id), get_role(role_id)

    def put(self, request, project_id, user_id, role_id):
        project, user, role = self._grant("identity:create_grant", project_id, user_id, role_id)
        accounts.assign_role(user, role, project)
        return Response(status=204)

    def get(self, request, project_id, user_id, role_id):
        project, user, role = self._grant("identity:check_grant", project_id, user_id, role_id)
        if not RoleAssignment.objects.filter(user=user, role=role, project=project).exists():
            raise NotFound(f"Could not find role assignment with role: {role_id}, user: {user_id}.")
        return Response(status=204)

    head = get

    def delete(self, request, project_id, user_id, role_id):
        project, user, role = self._grant("identity:revoke_grant", project_id, user_id, role_id)
        if not accounts.remove_role(user, role, project):
            raise NotFound(f"Could not find role assignment with role: {role_id}, user: {user_id}.")
        return Response(status=204)


class DomainUserRolesView(IdentityView):
    """GET /v3/domains/{d}/users/{u}/roles."""

    def get(self, request, domain_id, user_id):
        enforce(self.ctx, "identity:list_grants", {"user_id": user_id})
        domain, user = get_domain(domain_id), get_user(user_id)
        roles = Role.objects.filter(domain_assignments__user=user, domain_assignments__domain=domain).distinct()
        return Response({"roles": [role_body(r, self.v3_url()) for r in roles], "links": self.collection_links()})


class DomainUserRoleGrantView(IdentityView):
    """PUT/HEAD/GET/DELETE /v3/domains/{d}/users/{u}/roles/{r} (stored and listed; see
    identity.models.DomainRoleAssignment)."""

    def _grant(self, action, domain_id, user_id, role_id):
        enforce(self.ctx, action, {"user_id": user_id})
        return get_domain(domain_id), get_user(user_id), get_role(role_id)

    def put(self, request, domain_id, user_id, role_id):
        domain, user, role = self._grant("identity:create_grant", domain_id, user_id, role_id)
        DomainRoleAssignment.objects.get_or_create(domain=domain, user=user, role=role)
        return Response(status=204)

    def head(self, request, domain_id, user_id, role_id):
        domain, user, role = self._grant("identity:check_grant", domain_id, user_id, role_id)
        if not DomainRoleAssignment.objects.filter(domain=domain, user=user, role=role).exists():
            raise NotFound(f"Could not find role assignment with role: {role_id}, user: {user_id}.")
        return Response(status=204)

    get = head

    def delete(self, request, domain_id, user_id, role_id):
        domain, user, role = self._grant("identity:revoke_grant", domain_id, user_id, role_id)
        deleted, _ = DomainRoleAssignment.objects.filter(domain=domain, user=user, role=role).delete()
        if not deleted:
            raise NotFound(f"Could not find role assignment with role: {role_id}, user: {user_id}.")
        return Response(status=204)


class RoleAssignmentListView(IdentityView):
    """GET /v3/role_assignments?user.id=&group.id=&role.id=&scope.project.id=&scope.domain.id=
    &scope.system=&effective&include_names.

    Global roles (the seeds' cloudadmin, itsec) appear with scope {"system": {"all": true}}.
    `effective` replaces each group assignment by one entry per member (Keystone's
    `membership` link), so it shows what tokens carry; `group.id` with `effective` is a 400.
    """

    def get(self, request):
        enforce(self.ctx, "identity:list_role_assignments")
        params = request.query_params
        effective = "effective" in params and bool_query(params.get("effective") or "true")
        if effective and params.get("group.id"):
            raise BadRequest("Specifying group.id and effective together is not allowed.")
        include_names = bool(bool_query(params.get("include_names")))
        v3 = self.v3_url()
        users = RoleAssignment.objects.select_related("user", "role", "project").order_by(
            "user__username", "project__name", "role__name"
        )
        groups = GroupRoleAssignment.objects.select_related("group", "role", "project").order_by(
            "group__name", "project__name", "domain_id", "role__name"
        )
        domains = DomainRoleAssignment.objects.select_related("user", "role", "domain").order_by(
            "user__username", "domain__name", "role__name"
        )
        if params.get("scope.project.id") or "scope.system" in params or params.get("group.id"):
            domains = domains.none()
        if params.get("scope.domain.id"):
            domains = domains.filter(domain_id=params["scope.domain.id"])
        if params.get("user.id"):
            domains = domains.filter(user_id=params["user.id"])
        if params.get("role.id"):
            domains = domains.filter(role_id=params["role.id"])
            users = users.filter(role_id=params["role.id"])
            groups = groups.filter(role_id=params["role.id"])
        if params.get("scope.project.id"):
            users = users.filter(project_id=params["scope.project.id"])
            groups = groups.filter(project_id=params["scope.project.id"])
        if params.get("scope.domain.id"):
            users = users.none()
            groups = groups.filter(project__isnull=True, domain_id=params["scope.domain.id"])
        if "scope.system" in params:
            users = users.filter(project__isnull=True)
            groups = groups.filter(project__isnull=True, domain_id="")
        if params.get("group.id"):
            users = users.none()
            groups = groups.filter(group_id=params["group.id"])
        if params.get("user.id"):
            users = users.filter(user_id=params["user.id"])
            if not effective:
                groups = groups.none()
        body = [role_assignment_body(a, v3, include_names) for a in users]
        body += [domain_role_assignment_body(a, v3, include_names) for a in domains]
        for assignment in groups:
            if not effective:
                body.append(group_role_assignment_body(assignment, v3, include_names))
                continue
            members = assignment.group.users.order_by("username")
            if params.get("user.id"):
                members = members.filter(pk=params["user.id"])
            for user in members:
                body.append(group_role_assignment_body(assignment, v3, include_names, member=user))
        body += assignment_expansion.inherited_entries(params, effective, v3, include_names)
        if effective:
            body = assignment_expansion.effective_roles_of(body, v3, include_names)
        return Response({"role_assignments": body, "links": self.collection_links()})


class SystemRolesView(IdentityView):
    """GET /v3/system/users/{u}/roles and /v3/system/groups/{g}/roles: the roles granted on the
    system (a user's global grants; a group's grants with neither project nor domain)."""

    def get(self, request, user_id=None, group_id=None):
        enforce(self.ctx, "identity:list_grants", {"user_id": user_id} if user_id else {})
        if user_id is not None:
            roles = Role.objects.filter(assignments__user=get_user(user_id), assignments__project__isnull=True)
        else:
            roles = Role.objects.filter(
                group_assignments__group=_get_group(group_id),
                group_assignments__project__isnull=True,
                group_assignments__domain_id="",
            )
        roles = roles.distinct()
        return Response({"roles": [role_body(r, self.v3_url()) for r in roles], "links": self.collection_links()})


class SystemRoleGrantView(IdentityView):
    """PUT/HEAD/GET/DELETE /v3/system/users/{u}/roles/{r} and /v3/system/groups/{g}/roles/{r}:
    Keystone's system role assignments (a system-scoped token carries these roles)."""

    def _grant(self, action: str, user_id, group_id, role_id):
        enforce(self.ctx, action, {"user_id": user_id} if user_id else {})
        if user_id is not None:
            actor = get_user(user_id)
            rows = RoleAssignment.objects.filter(user=actor, project__isnull=True)
        else:
            actor = _get_group(group_id)
            rows = GroupRoleAssignment.objects.filter(group=actor, project__isnull=True, domain_id="")
        role = get_role(role_id)
        return actor, role, rows.filter(role=role)

    def _missing(self, user_id, group_id, role_id):
        actor = f"user: {user_id}" if user_id else f"group: {group_id}"
        return NotFound(f"Could not find role assignment with role: {role_id}, {actor}.")

    def put(self, request, role_id, user_id=None, group_id=None):
        actor, role, _rows = self._grant("identity:create_grant", user_id, group_id, role_id)
        if user_id is not None:
            accounts.assign_role(actor, role, None)
        else:
            GroupRoleAssignment.objects.get_or_create(group=actor, role=role, project=None, domain_id="")
        return Response(status=204)

    def get(self, request, role_id, user_id=None, group_id=None):
        _actor, _role, rows = self._grant("identity:check_grant", user_id, group_id, role_id)
        if not rows.exists():
            raise self._missing(user_id, group_id, role_id)
        return Response(status=204)

    head = get

    def delete(self, request, role_id, user_id=None, group_id=None):
        _actor, _role, rows = self._grant("identity:revoke_grant", user_id, group_id, role_id)
        deleted, _ = rows.delete()
        if not deleted:
            raise self._missing(user_id, group_id, role_id)
        return Response(status=204)


def _get_group(group_id: str) -> Group:
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound(f"Could not find group: {group_id}.")
    return group
