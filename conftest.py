"""Shared fixtures: projects, users with roles, tokens, and an API client that sends them."""
import pytest
from rest_framework.test import APIClient

from identity.services import accounts, tokens
from identity.models import Role


class TokenClient(APIClient):
    """An API client that authenticates with `X-Auth-Token` (None: no token at all)."""

    def __init__(self, token_id=None, **kwargs):
        super().__init__(**kwargs)
        if token_id:
            self.credentials(HTTP_X_AUTH_TOKEN=token_id)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing, cheaper algorithm: PBKDF2's cost makes every login take ~1 s in tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def roles(db):
    return {role.name: role for role in accounts.ensure_default_roles()}


@pytest.fixture
def make_account(roles):
    """make_account(project_name, role_name, username=None) -> (user, project, token_id)."""
    from identity.models import Project

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
def anon_client():
    return TokenClient(None)


OPENSTACK_BIN = str(__import__("pathlib").Path(__import__("sys").executable).with_name("openstack"))


@pytest.fixture
def osc(live_server):
    """osc(*args, user=..., password=..., project=..., check=True) runs the real `openstack` CLI
    against this test's live server and returns parsed JSON output (or text with raw=True)."""
    return osc_runner(live_server.url)


def osc_runner(base_url: str):
    """The `osc` fixture's runner against the cloud at `base_url` (e.g. an ASGI server)."""
    import json
    import os
    import subprocess

    def run(*args, user="admin", password="secret-pass", project="admin", check=True, raw=False):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "OS_AUTH_URL": f"{base_url}/identity",
            "OS_IDENTITY_API_VERSION": "3",
            "OS_USERNAME": user,
            "OS_PASSWORD": password,
            "OS_PROJECT_NAME": project,
            "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_REGION_NAME": "RegionOne",
            "OS_INTERFACE": "public",
        }
        argv = [OPENSTACK_BIN, *args]
        if not raw and args and args[-1] != "--help":
            argv += ["-f", "json"]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        if raw or not check or not proc.stdout.strip():
            return proc
        return json.loads(proc.stdout)

    return run


@pytest.fixture
def state_paths(settings, tmp_path):
    """Image store, instances, state and dnsmasq files under this test's tmp_path."""
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.STATE_PATH = tmp_path / "state"
    settings.NETWORKS_PATH = tmp_path / "networks"
    return tmp_path
