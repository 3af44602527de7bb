"""/v3/users, a user's password, projects and EC2 credentials."""
import json

from django.conf import settings
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, Forbidden, NotFound, Unauthorized

from identity.services import accounts
from ..models import Ec2Credential, Project, User
from identity.services.policy import enforce
from .bodies import ec2_credential_body, project_body, user_body
from .common import (
    IdentityView,
    bool_query,
    checked_bool,
    checked_domain_id,
    checked_name,
    checked_text,
    delete_or_conflict,
    duplicate_to_conflict,
    get_project,
    get_user,
)

EMAIL_MAX_LENGTH = 254
PASSWORD_MAX_LENGTH = 4096


def _checked_password(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > PASSWORD_MAX_LENGTH:
        raise BadRequest("Invalid input for field 'password': a string is required.")
    return value


# what Keystone's user schema names; any other attribute is an "extra" kept as given
USER_FIELDS = {"id", "name", "enabled", "email", "description", "domain_id", "default_project_id", "password",
               "links", "options", "password_expires_at", "federated"}
EXTRA_KEYS_MAX, EXTRA_SIZE_MAX = 32, 65535


def _extras(ref: dict, current: dict | None = None) -> dict | None:
    """The user's extra attributes after this body (merged into `current`), None if it has none."""
    given = {k: v for k, v in ref.items() if k not in USER_FIELDS}
    if not given:
        return None
    extra = {**(current or {}), **given}
    if len(extra) > EXTRA_KEYS_MAX or any(len(k) > 255 for k in extra):
        raise BadRequest(f"Invalid input: at most {EXTRA_KEYS_MAX} extra attributes of names up to 255 characters.")
    if len(json.dumps(extra)) > EXTRA_SIZE_MAX:
        raise BadRequest(f"Invalid input: the extra attributes exceed {EXTRA_SIZE_MAX} characters.")
    return extra


def _user_changes(ref: dict, current_extra: dict | None = None) -> dict:
    """The user fields a create/update body sets (accounts.update_user names)."""
    changes = {}
    extra = _extras(ref, current_extra)
    if extra is not None:
        changes["extra"] = extra
    if "name" in ref:
        changes["name"] = checked_name(ref["name"])
    if "enabled" in ref:
        changes["enabled"] = checked_bool(ref["enabled"], "enabled")
    if "email" in ref:
        changes["email"] = checked_text(ref["email"], "email", EMAIL_MAX_LENGTH)
    if "description" in ref:
        changes["description"] = checked_text(ref["description"], "description")
    if "domain_id" in ref:
        domain_id = checked_domain_id(ref["domain_id"])
        if domain_id is not None:
            changes["domain_id"] = domain_id
    if "default_project_id" in ref:
        project_id = ref["default_project_id"]
        if project_id is not None and not isinstance(project_id, str):
            raise BadRequest("Invalid input for field 'default_project_id': a string is required.")
        project = Project.objects.filter(pk=project_id).first() if project_id else None
        if project_id and project is None:
            raise BadRequest(f"Invalid default_project_id: project {project_id} does not exist.")
        changes["default_project"] = project
    if "password" in ref:
        changes["password"] = _checked_password(ref["password"])
    return changes


class UserListView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_users")
        users = User.objects.all()
        params = request.query_params
        if "name" in params:
            users = users.filter(username=params["name"])
        if bool_query(params.get("enabled")) is not None:
            users = users.filter(is_active=bool_query(params["enabled"]))
        if "domain_id" in params:
            users = users.filter(domain_id=params["domain_id"])
        body = [user_body(u, self.v3_url()) for u in users]
        return Response({"users": body, "links": self.collection_links()})

    def post(self, request):
        enforce(self.ctx, "identity:create_user")
        ref = self.body_object("user")
        if "name" not in ref:
            raise BadRequest("Invalid input for field 'name': 'name' is a required property.")
        changes = _user_changes(ref)
        user = duplicate_to_conflict(
            accounts.create_user,
            changes["name"],
            changes.get("password"),
            default_project=changes.get("default_project"),
            email=changes.get("email", ""),
            enabled=changes.get("enabled", True),
            description=changes.get("description", ""),
            domain_id=changes.get("domain_id", settings.DEFAULT_DOMAIN_ID),
            extra=changes.get("extra"),
        )
        return Response({"user": user_body(user, self.v3_url())}, status=201)


class UserDetailView(IdentityView):
    def get(self, request, user_id):
        enforce(self.ctx, "identity:get_user", {"user_id": user_id})
        return Response({"user": user_body(get_user(user_id), self.v3_url())})

    def patch(self, request, user_id):
        enforce(self.ctx, "identity:update_user", {"user_id": user_id})
        user = get_user(user_id)
        changes = _user_changes(self.body_object("user"), user.extra)
        if changes.get("domain_id", user.domain_id) != user.domain_id:
            raise BadRequest("Invalid input for field 'domain_id': a user cannot move to another domain.")
        user = duplicate_to_conflict(accounts.update_user, user, **changes)
        return Response({"user": user_body(user, self.v3_url())})

    def delete(self, request, user_id):
        enforce(self.ctx, "identity:delete_user", {"user_id": user_id})
        delete_or_conflict(get_user(user_id), "user", accounts.delete_user)
        return Response(status=204)


class UserPasswordView(IdentityView):
    """POST /v3/users/{id}/password: a user changes its own password (the old one is checked)."""

    def post(self, request, user_id):
        enforce(self.ctx, "identity:change_password", {"user_id": user_id})
        user = get_user(user_id)
        ref = self.body_object("user")
        password = _checked_password(ref.get("password"))
        original = ref.get("original_password")
        if not password:
            raise BadRequest("Invalid input for field 'password': a new password is required.")
        if not isinstance(original, str) or not accounts.check_password(user, original):
            raise Unauthorized("The original password is wrong.")
        accounts.update_user(user, password=password)
        return Response(status=204)


class UserProjectsView(IdentityView):
    def get(self, request, user_id):
        enforce(self.ctx, "identity:list_user_projects", {"user_id": user_id})
        projects = accounts.projects_of_user(get_user(user_id))
        body = [project_body(p, self.v3_url()) for p in projects]
        return Response({"projects": body, "links": self.collection_links()})


class Ec2CredentialListView(IdentityView):
    def get(self, request, user_id):
        enforce(self.ctx, "identity:ec2_list_credentials", {"user_id": user_id})
        credentials = Ec2Credential.objects.filter(user=get_user(user_id)).order_by("created_at")
        body = [ec2_credential_body(c, self.v3_url()) for c in credentials]
        return Response({"credentials": body, "links": self.collection_links()})

    def post(self, request, user_id):
        enforce(self.ctx, "identity:ec2_create_credential", {"user_id": user_id})
        user = get_user(user_id)
        project_id = request.data.get("tenant_id") if isinstance(request.data, dict) else None
        if not isinstance(project_id, str) or not project_id:
            raise BadRequest("Invalid input for field 'tenant_id': a project id is required.")
        project = get_project(project_id)
        if not self.ctx.is_admin and not accounts.roles_on_project(user, project):
            raise Forbidden("The user has no role on that project.")
        credential = accounts.create_ec2_credential(user, project)
        return Response({"credential": ec2_credential_body(credential, self.v3_url())}, status=201)


class Ec2CredentialDetailView(IdentityView):
    def _credential(self, user_id: str, access: str, action: str) -> Ec2Credential:
        enforce(self.ctx, action, {"user_id": user_id})
        credential = Ec2Credential.objects.filter(user_id=user_id, access=access).first()
        if credential is None:
            raise NotFound(f"Could not find credential: {access}.")
        return credential

    def get(self, request, user_id, access):
        credential = self._credential(user_id, access, "identity:ec2_get_credential")
        return Response({"credential": ec2_credential_body(credential, self.v3_url())})

    def delete(self, request, user_id, access):
        self._credential(user_id, access, "identity:ec2_delete_credential").delete()
        return Response(status=204)
