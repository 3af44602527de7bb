"""Fixtures of the secgroups tests (the image to boot is the shared `image`): servers placed on a host with fixed
addresses (as the pipeline would leave them), and the messages sent to host queues."""
import pytest

from cloudproj.testing.servers import API
from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from network.services import fixed_ips
from network.services.networks import create_network


@pytest.fixture(autouse=True)
def paths(settings, tmp_path):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.STATE_PATH = tmp_path / "state"


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
