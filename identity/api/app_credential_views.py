"""/v3/users/{user_id}/application_credentials: delegated secrets for one project.

A credential is created from a project-scoped token of the user itself, for that project and a
subset of the token's roles (all of them by default). The secret is returned once; only its
hash is stored. A token issued through a restricted credential (the default) may not create or
delete application credentials. `access_rules` are refused (400): not supported.
"""
from datetime import UTC

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, Forbidden, NotFound

from identity.services import accounts
from identity.services.policy import enforce
from ..models import ApplicationCredential, Role
from .common import (
    IdentityView,
    checked_bool,
    checked_name,
    checked_text,
    duplicate_to_conflict,
    get_user,
)

SECRET_MAX_LENGTH = 4096


def credential_body(credential, v3_url: str, secret: str | None = None) -> dict:
    body = {
        "id": credential.id,
        "name": credential.name,
        "description": credential.description or None,
        "user_id": credential.user_id,
        "project_id": credential.project_id,
        "system": None,
        "roles": [{"id": r.id, "name": r.name, "domain_id": None} for r in credential.roles.order_by("name")],
        # Keystone shows an application credential's expiry as stored: UTC, no zone suffix
        # (2026-12-07T07:17:30.767512), unlike token timestamps (tempest compares it so)
        "expires_at": (credential.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
                       if credential.expires_at else None),
        "unrestricted": credential.unrestricted,
        "access_rules": [],
        "links": {"self": f"{v3_url}/users/{credential.user_id}/application_credentials/{credential.id}"},
    }
    if secret is not None:
        body["secret"] = secret
    return body


def _expires_at(value):
    if value is None:
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but not a date, e.g. month 13
        parsed = None
    if parsed is None:
        raise BadRequest("Invalid input for field 'expires_at': an ISO 8601 date and time is required.")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    if parsed <= timezone.now():
        raise BadRequest("Invalid input for field 'expires_at': the time is in the past.")
    return parsed


def _requested_roles(value, held: list[Role]) -> list[Role]:
    if value is None:
        return held
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise BadRequest("Invalid input for field 'roles': a list of {\"id\"} or {\"name\"} objects is required.")
    chosen = []
    for ref in value:
        match = [r for r in held if r.id == ref.get("id") or ("id" not in ref and r.name == ref.get("name"))]
        if not match:
            raise NotFound(f"Could not find role assignment with role: {ref.get('id') or ref.get('name')}.")
        chosen.append(match[0])
    return chosen


def _refuse_restricted(ctx) -> None:
    token = ctx.token
    credential = token.application_credential if token is not None else None
    if credential is not None and not credential.unrestricted:
        raise Forbidden("A restricted application credential cannot manage application credentials.")


def get_credential(user_id: str, credential_id: str) -> ApplicationCredential:
    credential = ApplicationCredential.objects.filter(pk=credential_id, user_id=user_id).first()
    if credential is None:
        raise NotFound(f"Could not find application credential: {credential_id}.")
    return credential


class ApplicationCredentialListView(IdentityView):
    def get(self, request, user_id):
        enforce(self.ctx, "identity:list_application_credentials", {"user_id": user_id})
        credentials = get_user(user_id).application_credentials.prefetch_related("roles")
        if "name" in request.query_params:
            credentials = credentials.filter(name=request.query_params["name"])
        body = [credential_body(c, self.v3_url()) for c in credentials]
        return Response({"application_credentials": body, "links": self.collection_links()})

    def post(self, request, user_id):
        enforce(self.ctx, "identity:create_application_credential", {"user_id": user_id})
        if user_id != self.ctx.user_id:
            raise Forbidden("Application credentials can only be created for the user of the token.")
        _refuse_restricted(self.ctx)
        if self.ctx.project is None:
            raise Forbidden("A project-scoped token is required to create an application credential.")
        ref = self.body_object("application_credential")
        if "name" not in ref:
            raise BadRequest("Invalid input for field 'name': 'name' is a required property.")
        if ref.get("access_rules"):
            raise BadRequest("Application credential access rules are not supported by this cloud.")
        secret = ref.get("secret")
        if secret is not None and (not isinstance(secret, str) or not secret or len(secret) > SECRET_MAX_LENGTH):
            raise BadRequest("Invalid input for field 'secret': a non-empty string is required.")
        held = accounts.roles_on_project(self.ctx.user, self.ctx.project, self.ctx.token.application_credential)
        credential, secret = duplicate_to_conflict(
            accounts.create_application_credential,
            self.ctx.user,
            self.ctx.project,
            checked_name(ref["name"]),
            _requested_roles(ref.get("roles"), held),
            secret=secret,
            description=checked_text(ref.get("description"), "description", 65535),
            expires_at=_expires_at(ref.get("expires_at")),
            unrestricted=checked_bool(ref.get("unrestricted", False), "unrestricted"),
        )
        return Response({"application_credential": credential_body(credential, self.v3_url(), secret)}, status=201)


class ApplicationCredentialDetailView(IdentityView):
    def get(self, request, user_id, credential_id):
        enforce(self.ctx, "identity:get_application_credential", {"user_id": user_id})
        credential = get_credential(user_id, credential_id)
        return Response({"application_credential": credential_body(credential, self.v3_url())})

    def delete(self, request, user_id, credential_id):
        enforce(self.ctx, "identity:delete_application_credential", {"user_id": user_id})
        _refuse_restricted(self.ctx)
        get_credential(user_id, credential_id).delete()  # its tokens go with it
        return Response(status=204)
