"""Fixtures: projects, users with roles, tokens, and API clients that send them."""
import pytest

from .clients import TokenClient


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing, cheaper algorithm: PBKDF2's cost makes every login take ~1 s in tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def roles(db):
    from identity.services import accounts

    return {role.name: role for role in accounts.ensure_default_roles()}


@pytest.fixture
def make_account(roles):
    """make_account(project_name, role_name, username=None) -> (user, project, token_id)."""
    from identity.services import accounts, tokens
    from identity.models import Project, Role

    def make(project_name="demo", role_name="member", username=None, password="secret-pass"):
        project = Project.objects.filter(name=project_name).first() or accounts.create_project(project_name)
        user = accounts.create_user(username or f"{project_name}-{role_name}", password, default_project=project)
        accounts.assign_role(user, Role.objects.get(name=role_name), project)
        token_id, _ = tokens.issue_token(user, project)
        return user, project, token_id

    return make


@pytest.fixture
def admin_account(make_account):
    return make_account("admin", "admin", username="admin")


@pytest.fixture
def admin_client(admin_account):
    return TokenClient(admin_account[2])


@pytest.fixture
def member_account(make_account):
    return make_account("demo", "member", username="demo-user")


@pytest.fixture
def member_client(member_account):
    return TokenClient(member_account[2])


@pytest.fixture
def other_client(make_account):
    """A member of another project ("other")."""
    return TokenClient(make_account("other", "member", username="other-user")[2])


@pytest.fixture
def anon_client():
    return TokenClient(None)
