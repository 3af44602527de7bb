"""The compute API as the tests drive it: an image to boot, servers created through the API
and moved in the DB the way a host would move them (no worker runs), and registered hosts."""
import io

import pytest

from compute import states
from compute.models import Instance
from compute.services import hosts
from compute.services import instances as instance_service
from compute.services.flavors import ensure_default_flavors
from images.models import Image
from images.services.registry import register_image

API = "/compute/v2.1"


@pytest.fixture
def paths(settings, tmp_path):
    """Image store, instances and image cache under this test's tmp_path."""
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.IMAGE_CACHE_PATH = tmp_path / "instances" / "_base"


@pytest.fixture
def state_paths(settings, tmp_path):
    """Image store, instances, state and dnsmasq files under this test's tmp_path."""
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.STATE_PATH = tmp_path / "state"
    settings.NETWORKS_PATH = tmp_path / "networks"
    return tmp_path


@pytest.fixture
def image(db):
    """A public 4 KB raw image (and the default flavors)."""
    ensure_default_flavors()
    return register_image(io.BytesIO(b"x" * 4096), "tiny-img", disk_format="raw", visibility=Image.PUBLIC)


@pytest.fixture
def server(member_client, image):
    """The id of a server the member booted (BUILD: no worker runs)."""
    return boot(member_client, image, "acted")["server"]["id"]


@pytest.fixture
def compute_host(db):
    """register(host, zone=None) → the nova-compute Service, with its ComputeNode from the
    libvirt test driver (the same code path the agent uses)."""
    from compute.virt.libvirt_driver import LibvirtDriver  # imports libvirt: only for this fixture

    def register(host="host-a", zone=None, binaries=("nova-compute", "nova-network", "nova-volume")):
        services = [hosts.register_service(host, binary, zone) for binary in binaries]
        compute = next(s for s in services if s.binary == "nova-compute")
        hosts.update_compute_node(compute, LibvirtDriver("test:///default", host=host).host_stats())
        return compute

    return register


def boot(client, image, name="vm", status=202, hints=None, **server):
    body = {"server": {"name": name, "imageRef": str(image.id), "flavorRef": "1", **server}}
    if hints is not None:
        body["os:scheduler_hints"] = hints
    response = client.post(f"{API}/servers", body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def show(client, server_id, status=200):
    response = client.get(f"{API}/servers/{server_id}")
    assert response.status_code == status, response.content
    return response.json().get("server")


def error(response, code):
    """The message of an error envelope `{"<name>": {"code": code, "message": ...}}`."""
    assert response.status_code == code, response.content
    (name,) = response.json()
    assert response.json()[name]["code"] == code
    return response.json()[name]["message"]


def instance(server_id):
    return Instance.all_objects.get(uuid=server_id)


def make_active(server_id, host="host-a"):
    """The server ACTIVE on `host`, as its host would leave it after a boot."""
    row = instance(server_id)
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1, host=host)
    return row


def act(client, server_id, body, **headers):
    return client.post(f"{API}/servers/{server_id}/action", body, format="json", **headers)
