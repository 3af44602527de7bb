"""Authentication requests (v3 and the seeds' v2.0) turned into tokens, and token bodies.

Who may get which token:
- `password`: the user by id, or by name within the default domain; a disabled user is a 401.
- `token`: re-scope a live token; the new token never outlives it and shares its audit chain.
- `application_credential` (id + secret, or name + user + secret): a token on the credential's
  project with the credential's roles the user still holds there; no other scope may be asked.
- A user or project of a disabled domain cannot authenticate.
- scope `project` (by id, or by name within the default domain): the user must hold a role
  there (a global role, e.g. the seeds' `cloudadmin`, counts); no scope: the user's default
  project when it has a role there (Keystone), else an unscoped token (no catalog).
Every failure is a 401 without saying which part was wrong, except malformed bodies (400).
"""
from django.contrib.auth.hashers import check_password
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from cloudproj.api.errors import BadRequest, Unauthorized

from identity.services import catalog, lockout, accounts, tokens
from ..models import ApplicationCredential, Domain, Project, User
from .bodies import domain_ref
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


def _domain_id(domain: dict | None) -> str | None:
    """The id of the domain a `{"id": ...}` or `{"name": ...}` reference names, else None."""
    if domain is None:
        return None
    if "id" in domain:
        found = Domain.objects.filter(pk=domain["id"]).first() if isinstance(domain["id"], str) else None
    else:
        name = domain.get("name")
        if not isinstance(name, str):
            return None
        found = Domain.objects.filter(name__iexact=name).first()
    return found.id if found is not None else None


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
        domain_id = _domain_id(_object(user_ref, "domain", required=False))
        user = User.objects.filter(username=name, domain_id=domain_id).first() if domain_id else None
    return _check_password(user, password)


def _check_password(user: User | None, password: str) -> User:
    if not lockout.check_password(user, password):  # locked out: the same 401 as a bad password
        raise Unauthorized(AUTH_FAILED)
    if not tokens.domains_enabled(user.domain_id):
        raise Unauthorized(AUTH_FAILED)
    return user


def _application_credential(method: dict) -> ApplicationCredential:
    """`{"id", "secret"}` or `{"name", "user": {...}, "secret"}` → the live credential, or 401."""
    secret = method.get("secret")
    if not isinstance(secret, str) or not secret:
        raise BadRequest("Invalid input for field 'secret': a non-empty string is required.")
    credentials = ApplicationCredential.objects.select_related("user", "project")
    if "id" in method:
        credential = credentials.filter(pk=_string(method, "id")).first()
    else:
        name = _string(method, "name")
        user_ref = _object(method, "user")
        if "id" in user_ref:
            credential = credentials.filter(name=name, user_id=_string(user_ref, "id")).first()
        else:
            domain_id = _domain_id(_object(user_ref, "domain", required=False))
            credential = credentials.filter(
                name=name, user__username=_string(user_ref, "name"), user__domain_id=domain_id
            ).first()
    if credential is None or not check_password(secret, credential.secret_hash):
        raise Unauthorized(AUTH_FAILED)
    if credential.expires_at is not None and credential.expires_at <= timezone.now():
        raise Unauthorized(AUTH_FAILED)
    if not credential.user.is_active or not tokens.domains_enabled(credential.user.domain_id):
        raise Unauthorized(AUTH_FAILED)
    return credential


def _parent_token(token_id) -> "tokens.Token":
    if not isinstance(token_id, str) or not token_id:
        raise BadRequest("Invalid input for field 'id': a token id is required.")
    try:
        return tokens.find_valid_token(token_id)
    except AuthenticationFailed:
        raise Unauthorized(AUTH_FAILED) from None


# --- where -------------------------------------------------------------------------------


def _scoped_project(user: User, project: Project | None, application_credential=None) -> Project:
    if project is None or not project.enabled or not tokens.domains_enabled(project.domain_id):
        raise Unauthorized(AUTH_FAILED)
    if not accounts.roles_on_project(user, project, application_credential):
        raise Unauthorized(AUTH_FAILED)
    return project


def _default_project(user: User) -> Project | None:
    """Keystone: a password request without a scope is scoped to the user's default project
    when the user may work there (enabled, in an enabled domain, a role held); otherwise it
    is unscoped. `"scope": "unscoped"` asks for an unscoped token explicitly."""
    project = user.default_project
    if project is None or not project.enabled or not tokens.domains_enabled(project.domain_id):
        return None
    return project if accounts.roles_on_project(user, project) else None


def _system_scope(scope) -> bool:
    """True for `{"system": {"all": true}}` (the only system Keystone has); other system
    values are a 400."""
    if not isinstance(scope, dict) or "system" not in scope:
        return False
    if len(scope) != 1:
        raise BadRequest("Invalid input for field 'scope': only one scope may be given.")
    system = scope["system"]
    if not isinstance(system, dict) or system.get("all") is not True:
        raise BadRequest("Invalid input for field 'scope': 'system' must be {\"all\": true}.")
    return True


def _v3_scope_project(scope) -> Project | None:
    if scope is None or scope == "unscoped":
        return None
    if not isinstance(scope, dict):
        raise BadRequest("Invalid input for field 'scope': an object is required.")
    if "project" not in scope:
        raise Unauthorized("Only project-scoped, system-scoped and unscoped tokens are supported.")
    ref = _object(scope, "project")
    if "id" in ref:
        return Project.objects.filter(pk=_string(ref, "id")).first()
    name = _string(ref, "name")
    domain_id = _domain_id(_object(ref, "domain", required=False))
    if domain_id is None:
        return None
    return Project.objects.filter(name=name, domain_id=domain_id).first()


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
    if "application_credential" in methods:
        credential = _application_credential(_object(identity, "application_credential"))
        if auth.get("scope") not in (None, "unscoped"):
            raise Unauthorized("An application credential token is scoped to the credential's project.")
        project = _scoped_project(credential.user, credential.project, credential)
        return tokens.issue_token(
            credential.user, project, methods=["application_credential"], application_credential=credential
        )
    if "password" in methods:
        user = _password_user(_object(identity, "password"))
    elif "token" in methods:
        parent = _parent_token(_object(identity, "token").get("id"))
        user = parent.user
    else:
        raise Unauthorized("Attempted to authenticate with an unsupported method.")
    if _system_scope(auth.get("scope")):
        if parent is not None and parent.application_credential is not None:
            raise Unauthorized("An application credential token cannot be re-scoped to the system.")
        if not accounts.roles_on_project(user, None):
            raise Unauthorized(f"User {user.id} has no access to the system.")
        return tokens.issue_token(user, None, methods=_methods(methods, parent), parent=parent, system=True)
    project = _v3_scope_project(auth.get("scope"))
    if auth.get("scope") not in (None, "unscoped"):
        project = _scoped_project(user, project, parent.application_credential if parent else None)
    elif auth.get("scope") is None and parent is None:
        project = _default_project(user)
    return tokens.issue_token(user, project, methods=_methods(methods, parent), parent=parent)


def _methods(requested: list, parent) -> list[str]:
    """Keystone: a re-scoped token keeps how its chain was first authenticated (["password",
    "token"]), a new one names the method used."""
    methods = [m for m in requested if m in ("password", "token")]
    if parent is not None:
        methods = [m for m in parent.methods if m not in methods] + methods
    return methods


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
            "domain": domain_ref(user.domain_id),
            "password_expires_at": None,
        },
    }
    credential = token.application_credential
    if credential is not None:
        body["application_credential"] = {
            "id": credential.id,
            "name": credential.name,
            "restricted": not credential.unrestricted,
        }
    if project is not None:
        roles = accounts.roles_on_project(user, project, token.application_credential)
        body["roles"] = [{"id": r.id, "name": r.name} for r in roles]
        body["project"] = {"id": project.id, "name": project.name, "domain": domain_ref(project.domain_id)}
        if include_catalog:
            body["catalog"] = catalog.service_catalog(base_url, project.id)
    elif token.system:
        roles = accounts.roles_on_project(user, None)
        body["roles"] = [{"id": r.id, "name": r.name} for r in roles]
        body["system"] = {"all": True}
        if include_catalog:
            body["catalog"] = catalog.service_catalog(base_url, None)
    # an unscoped token has no catalog (Keystone), nor roles or project
    return {"token": body}


def _v2_time(value) -> str:
    return isotime(value).split(".")[0] + "Z"


def v2_access_body(token_id: str, token, base_url: str) -> dict:
    user, project = token.user, token.project
    roles = accounts.roles_on_project(user, project, token.application_credential) if project is not None else []
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
