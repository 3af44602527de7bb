"""Fixtures of the EC2 API tests: accounts with EC2 credentials, the real boto3 client and the
real aws CLI against the test's live server, and a project ready to boot (image, flavors, a
fixed network and a floating pool)."""
import io
import json
import os
import subprocess

import pytest

from cloudproj.testing.clients import AWS_BIN
from compute.services.flavors import ensure_default_flavors
from floating.services import ranges
from identity.models import Role
from identity.services import accounts
from images.models import Image
from images.services.registry import register_image
from network.services import networks



@pytest.fixture
def sent(monkeypatch):
    """Tasks the API queued (after commit), recorded instead of reaching a broker (no worker
    runs in these tests: servers stay pending unless a test moves them as their host would)."""
    from cloudproj.celery import app

    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: calls.append((name, args, queue)))
    return calls


@pytest.fixture
def ec2_account(roles):
    """ec2_account(project, *role names, username=None) -> (user, project, Ec2Credential)."""
    def make(project_name="ec2demo", *role_names, username=None):
        from identity.models import Project

        project = Project.objects.filter(name=project_name).first() or accounts.create_project(project_name)
        user = accounts.create_user(username or f"{project_name}-user", "secret-pass", default_project=project)
        for name in role_names or ("member", "netadmin"):
            accounts.assign_role(user, Role.objects.get(name=name), project)
        return user, project, accounts.create_ec2_credential(user, project)

    return make


@pytest.fixture
def ec2(live_server):
    """ec2(credential, **botocore Config options) -> a boto3 EC2 client of that credential."""
    import boto3
    from botocore.config import Config

    def client(credential, access=None, secret=None, **config):
        return boto3.client(
            "ec2", endpoint_url=f"{live_server.url}/ec2/", region_name="RegionOne",
            aws_access_key_id=access or credential.access, aws_secret_access_key=secret or credential.secret,
            config=Config(retries={"max_attempts": 1}, **config),
        )

    return client


@pytest.fixture
def aws(live_server, tmp_path):
    """aws(credential, *args, check=True) runs the real aws CLI (JSON output) against the live server."""
    def run(credential, *args, check=True):
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": credential.access,
               "AWS_SECRET_ACCESS_KEY": credential.secret, "AWS_DEFAULT_REGION": "RegionOne",
               "AWS_CONFIG_FILE": str(tmp_path / "no-config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-cred"),
               "AWS_MAX_ATTEMPTS": "1"}
        proc = subprocess.run([AWS_BIN, "--endpoint-url", f"{live_server.url}/ec2/", "--output", "json", "ec2", *args],
                              env=env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"aws ec2 {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        if not check:
            return proc
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    return run


@pytest.fixture
def bootable(db, paths, settings, tmp_path):
    """Flavors, a public image `tiny-img`, the network `ec2net` and the floating pool `public`."""
    settings.NETWORKS_PATH = tmp_path / "networks"
    ensure_default_flavors()
    image = register_image(io.BytesIO(b"x" * 4096), "tiny-img", disk_format="raw", visibility=Image.PUBLIC)
    network = networks.create_network("ec2net", "10.241.0.0/24", bridge="cptec2u0", bridge_interface="")
    ranges.create_range("203.0.113.64/29", pool=settings.DEFAULT_FLOATING_POOL, interface="cptec2x0")
    return {"image": image, "network": network}
