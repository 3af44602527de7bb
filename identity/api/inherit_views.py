"""Keystone's OS-INHERIT grants: /v3/OS-INHERIT/{domains|projects}/{id}/{users|groups}/{id}/roles
[/{role}]/inherited_to_projects. The role counts on every project below the project (or every
project of the domain), not on the project or domain itself (identity.services.context)."""
from rest_framework.response import Response

from cloudproj.api.errors import NotFound

from identity.services import role_rules
from identity.services.policy import enforce
from ..models import Role
from .bodies import role_body
from .common import IdentityView, get_domain, get_project, get_role, get_user
from .group_views import get_group


class _InheritView(IdentityView):
    def _actor_target(self, action: str, kwargs: dict):
        enforce(self.ctx, action, {"user_id": kwargs["user_id"]} if kwargs.get("user_id") else {})
        actor = get_user(kwargs["user_id"]) if kwargs.get("user_id") else get_group(kwargs["group_id"])
        target = get_project(kwargs["project_id"]) if kwargs.get("project_id") else get_domain(kwargs["domain_id"])
        return actor, target


class InheritedRolesView(_InheritView):
    """GET .../roles/inherited_to_projects: the roles inherited from that domain or project."""

    def get(self, request, **kwargs):
        actor, target = self._actor_target("identity:list_grants", kwargs)
        role_ids = role_rules.inherited_rows(actor, target).values("role_id")
        roles = Role.objects.filter(pk__in=role_ids)
        return Response({"roles": [role_body(r, self.v3_url()) for r in roles], "links": self.collection_links()})


class InheritedRoleGrantView(_InheritView):
    def put(self, request, role_id, **kwargs):
        actor, target = self._actor_target("identity:create_grant", kwargs)
        role_rules.grant_inherited(actor, target, get_role(role_id))
        return Response(status=204)

    def _existing(self, action: str, role_id: str, kwargs: dict):
        actor, target = self._actor_target(action, kwargs)
        rows = role_rules.inherited_rows(actor, target, get_role(role_id))
        if not rows.exists():
            raise NotFound(f"Could not find role assignment with role: {role_id}.")
        return rows

    def head(self, request, role_id, **kwargs):
        self._existing("identity:check_grant", role_id, kwargs)
        return Response(status=204)

    get = head

    def delete(self, request, role_id, **kwargs):
        self._existing("identity:revoke_grant", role_id, kwargs).delete()
        return Response(status=204)
