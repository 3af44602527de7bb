"""/v3/groups, group membership, and role grants to groups on projects and domains."""
from django.conf import settings
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound

from identity.services import accounts
from identity.services.policy import enforce
from ..models import Group, GroupRoleAssignment, Role
from .bodies import group_body, role_body, user_body
from .common import (
    IdentityView,
    checked_domain_id,
    checked_name,
    checked_text,
    duplicate_to_conflict,
    get_domain,
    get_project,
    get_role,
    get_user,
)

DESCRIPTION_MAX_LENGTH = 65535


def get_group(group_id: str) -> Group:
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound(f"Could not find group: {group_id}.")
    return group


def _group_changes(ref: dict, creating: bool) -> dict:
    changes = {}
    if "name" in ref:
        changes["name"] = checked_name(ref["name"])
    if "description" in ref:
        changes["description"] = checked_text(ref["description"], "description", DESCRIPTION_MAX_LENGTH)
    if "domain_id" in ref:
        if not creating:
            raise BadRequest("Invalid input for field 'domain_id': a group cannot move to another domain.")
        changes["domain_id"] = checked_domain_id(ref["domain_id"]) or settings.DEFAULT_DOMAIN_ID
    return changes


class GroupListView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_groups")
        groups = Group.objects.all()
        params = request.query_params
        if "name" in params:
            groups = groups.filter(name=params["name"])
        if "domain_id" in params:
            groups = groups.filter(domain_id=params["domain_id"])
        return Response({"groups": [group_body(g, self.v3_url()) for g in groups], "links": self.collection_links()})

    def post(self, request):
        enforce(self.ctx, "identity:create_group")
        ref = self.body_object("group")
        if "name" not in ref:
            raise BadRequest("Invalid input for field 'name': 'name' is a required property.")
        group = duplicate_to_conflict(accounts.save_group, Group(), **_group_changes(ref, creating=True))
        return Response({"group": group_body(group, self.v3_url())}, status=201)


class GroupDetailView(IdentityView):
    def get(self, request, group_id):
        enforce(self.ctx, "identity:get_group")
        return Response({"group": group_body(get_group(group_id), self.v3_url())})

    def patch(self, request, group_id):
        enforce(self.ctx, "identity:update_group")
        group = get_group(group_id)
        changes = _group_changes(self.body_object("group"), creating=False)
        group = duplicate_to_conflict(accounts.save_group, group, **changes)
        return Response({"group": group_body(group, self.v3_url())})

    def delete(self, request, group_id):
        enforce(self.ctx, "identity:delete_group")
        get_group(group_id).delete()
        return Response(status=204)


class GroupUsersView(IdentityView):
    def get(self, request, group_id):
        enforce(self.ctx, "identity:list_users_in_group")
        users = get_group(group_id).users.select_related("default_project").order_by("username")
        return Response({"users": [user_body(u, self.v3_url()) for u in users], "links": self.collection_links()})


class GroupUserView(IdentityView):
    def _pair(self, action, group_id, user_id):
        enforce(self.ctx, action, {"user_id": user_id})
        return get_group(group_id), get_user(user_id)

    def put(self, request, group_id, user_id):
        group, user = self._pair("identity:add_user_to_group", group_id, user_id)
        accounts.add_user_to_group(group, user)
        return Response(status=204)

    def head(self, request, group_id, user_id):
        group, user = self._pair("identity:check_user_in_group", group_id, user_id)
        if not group.users.filter(pk=user.pk).exists():
            raise NotFound(f"User '{user_id}' not found in group '{group_id}'.")
        return Response(status=204)

    get = head

    def delete(self, request, group_id, user_id):
        group, user = self._pair("identity:remove_user_from_group", group_id, user_id)
        if not accounts.remove_user_from_group(group, user):
            raise NotFound(f"User '{user_id}' not found in group '{group_id}'.")
        return Response(status=204)


class UserGroupsView(IdentityView):
    def get(self, request, user_id):
        enforce(self.ctx, "identity:list_groups_for_user", {"user_id": user_id})
        groups = get_user(user_id).identity_groups.order_by("name")
        return Response({"groups": [group_body(g, self.v3_url()) for g in groups], "links": self.collection_links()})


# --- grants to groups ----------------------------------------------------------------------


def _target(project_id: str | None, domain_id: str | None) -> dict:
    if project_id is not None:
        return {"project": get_project(project_id), "domain_id": ""}
    return {"project": None, "domain_id": get_domain(domain_id).id}


class GroupRolesView(IdentityView):
    """GET /v3/projects/{p}/groups/{g}/roles and /v3/domains/{d}/groups/{g}/roles."""

    def get(self, request, group_id, project_id=None, domain_id=None):
        enforce(self.ctx, "identity:list_grants")
        target, group = _target(project_id, domain_id), get_group(group_id)
        assignments = GroupRoleAssignment.objects.filter(group=group, **target)
        roles = Role.objects.filter(pk__in=assignments.values("role_id"))
        return Response({"roles": [role_body(r, self.v3_url()) for r in roles], "links": self.collection_links()})


class GroupRoleGrantView(IdentityView):
    """PUT/HEAD/GET/DELETE /v3/{projects|domains}/{id}/groups/{g}/roles/{r}."""

    def _grant(self, action, group_id, role_id, project_id, domain_id):
        enforce(self.ctx, action, {"project_id": project_id} if project_id else {})
        return _target(project_id, domain_id), get_group(group_id), get_role(role_id)

    def put(self, request, group_id, role_id, project_id=None, domain_id=None):
        target, group, role = self._grant("identity:create_grant", group_id, role_id, project_id, domain_id)
        accounts.assign_group_role(group, role, **target)
        return Response(status=204)

    def head(self, request, group_id, role_id, project_id=None, domain_id=None):
        target, group, role = self._grant("identity:check_grant", group_id, role_id, project_id, domain_id)
        if not GroupRoleAssignment.objects.filter(group=group, role=role, **target).exists():
            raise NotFound(f"Could not find role assignment with role: {role_id}, group: {group_id}.")
        return Response(status=204)

    get = head

    def delete(self, request, group_id, role_id, project_id=None, domain_id=None):
        target, group, role = self._grant("identity:revoke_grant", group_id, role_id, project_id, domain_id)
        if not accounts.remove_group_role(group, role, **target):
            raise NotFound(f"Could not find role assignment with role: {role_id}, group: {group_id}.")
        return Response(status=204)
