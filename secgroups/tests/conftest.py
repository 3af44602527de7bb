"""Fixtures of the secgroups tests: an image to boot, servers placed on a host with fixed
addresses (as the pipeline would leave them), and the messages sent to host queues."""
import io
import subprocess

import pytest

from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from compute.services.flavors import ensure_default_flavors
from compute.tests.osc_support import nova_network_commands_missing
from conftest import TokenClient
from images.models import Image
from images.services.registry import register_image
from network.services import fixed_ips
from network.services.networks import create_network

API = "/compute/v2.1"


@pytest.fixture(autouse=True)
def paths(settings, tmp_path):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.STATE_PATH = tmp_path / "state"


@pytest.fixture
def image(db):
    ensure_default_flavors()
    return register_image(io.BytesIO(b"x" * 4096), "tiny-img", disk_format="raw", visibility=Image.PUBLIC)


@pytest.fixture
def other_client(make_account):
    return TokenClient(make_account("other", "member", username="other-user")[2])


@pytest.fixture
def network(db):
    return create_network("sgnet", "10.236.50.0/24", bridge="cptsgunit", bridge_interface="")


@pytest.fixture
def boot(image):
    """boot(client, name, status=202, **server) -> the create response's JSON."""

    def run(client, name="vm", status=202, **server):
        body = {"server": {"name": name, "imageRef": str(image.id), "flavorRef": "1", **server}}
        response = client.post(f"{API}/servers", body, format="json")
        assert response.status_code == status, response.content
        return response.json()

    return run


@pytest.fixture
def place(network):
    """place(server_id, host) -> the instance, ACTIVE on `host` with a fixed address."""

    def run(server_id, host="sg-unit"):
        instance = Instance.objects.get(uuid=server_id)
        instance_service.update_state(instance, vm_state=states.ACTIVE, task_state=None, host=host, node=host)
        fixed_ips.allocate_fixed_ip(network, instance.uuid, host=host, hostname=instance.hostname)
        return instance

    return run


@pytest.fixture
def sent(monkeypatch):
    """The (task, args, queue) of every message sent to a host queue (after commit)."""
    from cloudproj import rpc

    messages = []

    class Recorder:
        @staticmethod
        def send_task(name, args=None, queue=None, **kwargs):
            messages.append((name, list(args or []), queue))

    monkeypatch.setattr(rpc, "app", Recorder)
    return messages


def error(response, code) -> str:
    assert response.status_code == code, response.content
    (name,) = response.json()
    assert response.json()[name]["code"] == code
    return response.json()[name]["message"]


def osc_nova_network_missing() -> str | None:
    """Why the installed `openstack` client cannot manage nova-network security groups, or None."""
    return nova_network_commands_missing("security_group", "CreateSecurityGroup", "security group")


def filter_table() -> str:
    """The host's filter table as `iptables -S` prints it."""
    return subprocess.run(["iptables", "-w", "-S"], capture_output=True, text=True, check=True, timeout=30).stdout
