"""The real `openstack` CLI against a test's cloud, and whether the installed client still
speaks nova-network (python-openstackclient up to 9.x, as pinned in requirements-dev.txt:
without a network endpoint in the catalog its network commands go through the compute API;
10.0 removed that path)."""
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OPENSTACK_BIN = str(Path(sys.executable).with_name("openstack"))


@pytest.fixture
def osc(live_server):
    """osc(*args, user=..., password=..., project=..., check=True) runs the real `openstack` CLI
    against this test's live server and returns parsed JSON output (or text with raw=True)."""
    return osc_runner(live_server.url)


def client_env(base_url: str, user="admin", password="secret-pass", project="admin") -> dict:
    """The OS_* environment of a user of the cloud at `base_url`."""
    return {
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


def osc_runner(base_url: str, openstack_bin: str = OPENSTACK_BIN):
    """The `osc` fixture's runner against the cloud at `base_url` (e.g. an ASGI server)."""
    def run(*args, user="admin", password="secret-pass", project="admin", check=True, raw=False):
        env = client_env(base_url, user, password, project)
        argv = [openstack_bin, *args]
        if not raw and args and args[-1] != "--help":
            argv += ["-f", "json"]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        if raw or not check or not proc.stdout.strip():
            return proc
        return json.loads(proc.stdout)

    return run


def nova_network_commands_missing(module: str, command: str, what: str) -> str | None:
    """Why `openstackclient.network.v2.<module>.<command>` has no nova-network path, or None."""
    try:
        commands = importlib.import_module(f"openstackclient.network.v2.{module}")
    except ImportError:
        return "python-openstackclient is not installed"
    if not hasattr(getattr(commands, command), "take_action_compute"):
        import openstackclient

        version = getattr(openstackclient, "__version__", "")
        return (f"python-openstackclient {version} has no nova-network {what} commands "
                "(removed in 10.0); install the pinned requirements-dev.txt")
    return None


def osc_nova_network_security_groups_missing() -> str | None:
    """Why the installed `openstack` client cannot manage nova-network security groups, or None."""
    return nova_network_commands_missing("security_group", "CreateSecurityGroup", "security group")


def osc_nova_network_floating_ips_missing() -> str | None:
    """Why the installed `openstack` CLI cannot manage nova-network floating IPs, or None."""
    return nova_network_commands_missing("floating_ip", "CreateFloatingIP", "floating IP")
