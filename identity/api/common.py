"""Shared pieces of the Keystone-compatible API: the base view, body checks, links, lookups."""
from datetime import UTC

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from rest_framework.views import APIView

from cloudproj.api.errors import BadRequest, Conflict, NotFound

from identity.services import catalog, accounts
from ..models import NAME_VALIDATOR, Domain, Project, Role, User

NAME_MAX_LENGTH = 255  # Keystone's limit for user, group and role names
RESOURCE_NAME_MAX_LENGTH = 64  # Keystone's limit for project and domain names


class IdentityView(APIView):
    """Base of every identity view: Keystone error envelope, helpers for links and bodies."""

    error_style = "keystone"

    @property
    def ctx(self):
        return self.request.auth

    def base_url(self) -> str:
        return catalog.base_url(self.request)

    def v3_url(self, path: str = "") -> str:
        return f"{self.base_url()}/identity/v3{path}"

    def collection_links(self) -> dict:
        return {"self": self.request.build_absolute_uri(), "next": None, "previous": None}

    def body_object(self, key: str) -> dict:
        """The `{"<key>": {...}}` object of a request body, or 400."""
        data = self.request.data
        if not isinstance(data, dict) or not isinstance(data.get(key), dict):
            raise BadRequest(f"Invalid input for field '{key}': an object is required.")
        return data[key]


def isotime(value) -> str | None:
    """Keystone's timestamp format: 2015-11-05T22:00:11.000000Z."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- field checks (wrong types are 400s, as in Keystone's JSON schemas) ------------------


def checked_name(value, field: str = "name", max_length: int = NAME_MAX_LENGTH) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"Invalid input for field '{field}': a non-empty string is required.")
    if len(value) > max_length:
        raise BadRequest(f"Invalid input for field '{field}': longer than {max_length} characters.")
    try:
        NAME_VALIDATOR(value)
    except ValidationError:
        raise BadRequest(f"Invalid input for field '{field}': control characters are not allowed.") from None
    return value


def checked_bool(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"Invalid input for field '{field}': {value!r} is not a boolean.")
    return value


def checked_text(value, field: str, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input for field '{field}': {value!r} is not a string.")
    if max_length is not None and len(value) > max_length:
        raise BadRequest(f"Invalid input for field '{field}': longer than {max_length} characters.")
    return value


def checked_domain_id(value, field: str = "domain_id") -> str | None:
    """An existing domain's id (None stays None: the default domain)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input for field '{field}': {value!r} is not a string.")
    return get_domain(value).id


def duplicate_to_conflict(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except accounts.Duplicate as exc:
        raise Conflict(str(exc)) from None


def delete_or_conflict(obj, what: str, delete=None) -> None:
    """Delete `obj` (with `delete(obj)` if given); a 409 if other resources still reference it."""
    try:
        with transaction.atomic():
            (delete or type(obj).delete)(obj)
    except (ProtectedError, RestrictedError):
        raise Conflict(f"The {what} is still in use by other resources; delete those first.") from None


# --- lookups (unknown ids are 404s in Keystone's words) ----------------------------------


def get_domain(domain_id: str) -> Domain:
    domain = Domain.objects.filter(pk=domain_id).first()
    if domain is None:
        raise NotFound(f"Could not find domain: {domain_id}.")
    return domain


def get_project(project_id: str) -> Project:
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise NotFound(f"Could not find project: {project_id}.")
    return project


def get_user(user_id: str) -> User:
    user = User.objects.filter(pk=user_id).select_related("default_project").first()
    if user is None:
        raise NotFound(f"Could not find user: {user_id}.")
    return user


def get_role(role_id: str) -> Role:
    role = Role.objects.filter(pk=role_id).first()
    if role is None:
        raise NotFound(f"Could not find role: {role_id}.")
    return role


def bool_query(value: str | None) -> bool | None:
    """Keystone's boolean query parameters: absent → None, 0/false/no → False, else True."""
    if value is None:
        return None
    return value.strip().lower() not in ("0", "false", "no", "off", "n", "f")
