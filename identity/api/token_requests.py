"""Authentication requests (v3 and the seeds' v2.0) turned into tokens, and token bodies.

Who may get which token:
- `password`: the user by id, or by name within the default domain; a disabled user is a 401.
- `token`: re-scope a live token; the new token never outlives it and shares its audit chain.
- scope `project` (by id, or by name within the default domain): the user must hold a role
  there (a global role, e.g. the seeds' `cloudadmin`, counts); no scope: an unscoped token.
Every failure is a 401 without saying which part was wrong, except malformed bodies (400).
"""
from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed

from cloudproj.api.errors import BadRequest, Unauthorized

from identity.services import catalog, lockout, accounts, tokens
from ..models import Project, User
from .bodies import DOMAIN_REF
from .common import isotime

AUTH_FAILED = "The request you have made requires authentication."


def _object(container: dict, key: str, required: bool = True) -> dict | None:
    value = container.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid input for field '{key}': an object is required.")
    return value


def _string(container: dict, key: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Invalid input for field '{key}': a non-empty string is required.")
    return value


def _in_default_domain(domain: dict | None) -> bool:
    if domain is None:
        return False
    if "id" in domain:
        return domain["id"] == settings.DEFAULT_DOMAIN_ID
    name = domain.get("name")
    return isinstance(name, str) and name.lower() == settings.DEFAULT_DOMAIN_NAME.lower()


# --- who ---------------------------------------------------------------------------------


def _password_user(password_method: dict) -> User:
    user_ref = _object(password_method, "user")
    password = user_ref.get("password")
    if not isinstance(password, str):
        raise BadRequest("Invalid input for field 'password': a string is required.")
    if "id" in user_ref:
        user = User.objects.filter(pk=_string(user_ref, "id")).first()
    else:
        name = _string(user_ref, "name")
        domain = _object(user_ref, "domain", required=False)
        user = User.objects.filter(username=name).first() if _in_default_domain(domain) else None
    return _check_password(user, password)


def _check_password(user: User | None, password: str) -> User:
    if not lockout.check_password(user, password):  # locked out: the same 401 as a bad password
        raise Unauthorized(AUTH_FAILED)
    return user


def _parent_token(token_id) -> "tokens.Token":
    if not isinstance(token_id, str) or not token_id:
        raise BadRequest("Invalid input for field 'id': a token id is required.")
    try:
        return tokens.find_valid_token(token_id)
    except AuthenticationFailed:
        raise Unauthorized(AUTH_FAILED) from None


# --- where -------------------------------------------------------------------------------


def _scoped_project(user: User, project: Project | None) -> Project:
    if project is None or not project.enabled or not accounts.roles_on_project(user, project):
        raise Unauthorized(AUTH_FAILED)
    return project


def _v3_scope_project(scope) -> Project | None:
    if scope is None or scope == "unscoped":
        return None
    if not isinstance(scope, dict):
        raise BadRequest("Invalid input for field 'scope': an object is required.")
    if "project" not in scope:
        raise Unauthorized("Only project-scoped and unscoped tokens are supported.")
    ref = _object(scope, "project")
    if "id" in ref:
        return Project.objects.filter(pk=_string(ref, "id")).first()
    name = _string(ref, "name")
    if not _in_default_domain(_object(ref, "domain", required=False)):
        return None
    return Project.objects.filter(name=name).first()


def authenticate_v3(data) -> tuple[str, "tokens.Token"]:
    """POST /v3/auth/tokens body → (token id, token row)."""
    if not isinstance(data, dict):
        raise BadRequest("Expecting to find auth in request body.")
    auth = _object(data, "auth")
    identity = _object(auth, "identity")
    methods = identity.get("methods")
    if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
        raise BadRequest("Invalid input for field 'methods': a list of method names is required.")
    parent = None
    if "password" in methods:
        user = _password_user(_object(identity, "password"))
    elif "token" in methods:
        parent = _parent_token(_object(identity, "token").get("id"))
        user = parent.user
    else:
        raise Unauthorized("Attempted to authenticate with an unsupported method.")
    project = _v3_scope_project(auth.get("scope"))
    if auth.get("scope") not in (None, "unscoped"):
        project = _scoped_project(user, project)
    return tokens.issue_token(user, project, methods=[m for m in methods if m in ("password", "token")], parent=parent)


def authenticate_v2(data) -> tuple[str, "tokens.Token"]:
    """POST /v2.0/tokens body → (token id, token row)."""
    if not isinstance(data, dict):
        raise BadRequest("Expecting to find auth in request body.")
    auth = _object(data, "auth")
    parent = None
    if "passwordCredentials" in auth:
        credentials = _object(auth, "passwordCredentials")
        username = _string(credentials, "username")
        password = credentials.get("password")
        if not isinstance(password, str):
            raise BadRequest("Invalid input for field 'password': a string is required.")
        user = _check_password(User.objects.filter(username=username).first(), password)
        methods = ["password"]
    elif "token" in auth:
        parent = _parent_token(_object(auth, "token").get("id"))
        user, methods = parent.user, ["token"]
    else:
        raise BadRequest("Expecting passwordCredentials or token in auth.")
    project = None
    if auth.get("tenantId"):
        project = _scoped_project(user, Project.objects.filter(pk=_string(auth, "tenantId")).first())
    elif auth.get("tenantName"):
        project = _scoped_project(user, Project.objects.filter(name=_string(auth, "tenantName")).first())
    return tokens.issue_token(user, project, methods=methods, parent=parent)


# --- what the client sees ------------------------------------------------------------------


def audit_ids(token) -> list[str]:
    return [token.audit_id] + ([token.audit_chain_id] if token.audit_chain_id else [])


def v3_token_body(token, base_url: str, include_catalog: bool = True) -> dict:
    user, project = token.user, token.project
    body = {
        "methods": list(token.methods),
        "expires_at": isotime(token.expires_at),
        "issued_at": isotime(token.issued_at),
        "audit_ids": audit_ids(token),
        "is_domain": False,
        "user": {
            "id": user.id,
            "name": user.username,
            "domain": dict(DOMAIN_REF),
            "password_expires_at": None,
        },
        "catalog": [],
    }
    if project is not None:
        body["roles"] = [{"id": r.id, "name": r.name} for r in accounts.roles_on_project(user, project)]
        body["project"] = {"id": project.id, "name": project.name, "domain": dict(DOMAIN_REF)}
        if include_catalog:
            body["catalog"] = catalog.service_catalog(base_url, project.id)
    if not include_catalog:
        del body["catalog"]
    return {"token": body}


def _v2_time(value) -> str:
    return isotime(value).split(".")[0] + "Z"


def v2_access_body(token_id: str, token, base_url: str) -> dict:
    user, project = token.user, token.project
    roles = accounts.roles_on_project(user, project) if project is not None else []
    token_body = {
        "id": token_id,
        "expires": _v2_time(token.expires_at),
        "issued_at": isotime(token.issued_at),
        "audit_ids": audit_ids(token),
    }
    if project is not None:
        token_body["tenant"] = {
            "id": project.id,
            "name": project.name,
            "description": project.description,
            "enabled": project.enabled,
        }
    return {
        "access": {
            "token": token_body,
            "serviceCatalog": catalog.v2_service_catalog(base_url, project.id) if project else [],
            "user": {
                "id": user.id,
                "name": user.username,
                "username": user.username,
                "roles": [{"name": r.name} for r in roles],
                "roles_links": [],
            },
            "metadata": {"is_admin": 0, "roles": [r.id for r in roles]},
        }
    }
