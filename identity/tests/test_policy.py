import pytest

from cloudproj.api.errors import Forbidden, NotFound
from identity.services import policy, tokens


@pytest.mark.django_db
def test_member_is_forbidden_admin_actions_and_cannot_see_other_projects(make_account):
    _, project_a, token_a = make_account("a", "member")
    _, project_b, _ = make_account("b", "member")
    ctx = tokens.context_for(token_a)
    assert policy.authorize(ctx, "compute:flavors:list")
    with pytest.raises(Forbidden):
        policy.enforce(ctx, "compute:flavors:create")
    with pytest.raises(NotFound):
        policy.check_owner(ctx, project_b.id)
    policy.check_owner(ctx, project_a.id)


@pytest.mark.django_db
def test_admin_role_allows_admin_actions_in_any_project(make_account):
    _, _, token = make_account("admin", "admin")
    _, other, _ = make_account("b", "member")
    ctx = tokens.context_for(token)
    policy.enforce(ctx, "compute:services:list")
    policy.check_owner(ctx, other.id)


@pytest.mark.django_db
def test_netadmin_rule_needs_netadmin_role_in_the_project(make_account, roles):
    from identity.services import accounts

    user, project, token = make_account("a", "member")
    ctx = tokens.context_for(token)
    assert not policy.authorize(ctx, "identity:create_project")
    policy.ACTIONS.setdefault("test:netadmin", "netadmin")
    assert not policy.authorize(ctx, "test:netadmin", {"project_id": project.id})
    accounts.assign_role(user, roles["netadmin"], project)
    ctx = tokens.context_for(token)
    assert policy.authorize(ctx, "test:netadmin", {"project_id": project.id})


@pytest.mark.django_db
def test_revoked_and_expired_tokens_fail(make_account):
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework.exceptions import AuthenticationFailed

    user, project, token_id = make_account("a", "member")
    child_id, child = tokens.issue_token(user, project, methods=["token"], parent=tokens.find_valid_token(token_id))
    tokens.revoke_token(tokens.find_valid_token(token_id))
    for tid in (token_id, child_id):
        with pytest.raises(AuthenticationFailed):
            tokens.context_for(tid)
    other_id, other = tokens.issue_token(user, project)
    other.expires_at = timezone.now() - timedelta(seconds=1)
    other.save()
    with pytest.raises(AuthenticationFailed):
        tokens.context_for(other_id)
