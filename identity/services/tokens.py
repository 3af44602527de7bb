"""Token issue, validation and revocation (plain Python; the API views call these)."""
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from identity.services.context import RequestContext, effective_roles
from identity.models import Domain, Token, hash_token


def issue_token(
    user,
    project=None,
    methods=("password",),
    parent: Token | None = None,
    application_credential=None,
    system: bool = False,
) -> tuple[str, Token]:
    """Create a token; returns the secret token id (shown once) and the stored row.

    A token made from another token (the `token` method) never outlives its parent.
    """
    token_id = "gAAAA" + secrets.token_urlsafe(48)
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.TOKEN_EXPIRATION)
    if parent is not None:
        expires_at = min(expires_at, parent.expires_at)
        application_credential = application_credential or parent.application_credential
    if application_credential is not None and application_credential.expires_at is not None:
        expires_at = min(expires_at, application_credential.expires_at)
    token = Token.objects.create(
        id_hash=hash_token(token_id),
        user=user,
        project=project,
        methods=list(methods),
        issued_at=now,
        expires_at=expires_at,
        application_credential=application_credential,
        system=system and project is None,
        audit_chain_id=(parent.audit_chain_id or parent.audit_id) if parent is not None else "",
    )
    return token_id, token


def domains_enabled(*domain_ids: str | None) -> bool:
    """False when one of the domains is disabled (its users and projects cannot authenticate)."""
    ids = {d for d in domain_ids if d}
    return not Domain.objects.filter(pk__in=ids, enabled=False).exists()


def find_valid_token(token_id: str) -> Token:
    """The live token for `token_id`, or AuthenticationFailed (401)."""
    token = (
        Token.objects.select_related("user", "project", "application_credential").filter(id_hash=hash_token(token_id)).first()
    )
    if token is None or not token.is_valid:
        raise AuthenticationFailed("The request you have made requires authentication.")
    if token.project is not None and not token.project.enabled:
        raise AuthenticationFailed("The token's project is disabled.")
    if not domains_enabled(token.user.domain_id, token.project.domain_id if token.project else None):
        raise AuthenticationFailed("The token's domain is disabled.")
    return token


def context_for(token_id: str) -> RequestContext:
    token = find_valid_token(token_id)
    return RequestContext(
        user=token.user,
        project=token.project,
        roles=effective_roles(token.user, token.project, token.application_credential),
        token=token,
        system=token.system,
    )


def revoke_token(token: Token) -> None:
    """Revoke a token; revoking the first token of a chain also revokes every token re-scoped
    from it (its audit chain). Revoking a re-scoped token leaves the token it came from valid,
    as Keystone does (tempest's test_rescope_token scopes the original token again)."""
    if not token.audit_chain_id:
        Token.objects.filter(audit_chain_id=token.audit_id).update(revoked=True)
    token.revoked = True
    token.save(update_fields=["revoked"])


def revoke_user_tokens(user) -> int:
    return Token.objects.filter(user=user, revoked=False).update(revoked=True)


def purge_expired(grace_seconds: int = 86400) -> int:
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    deleted, _ = Token.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
