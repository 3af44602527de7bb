"""Fixtures of the floating IP tests: a fixed network, a pool, servers placed on a host the way
the boot pipeline would leave them (no worker runs here), and netadmin accounts."""
import ipaddress
import json
import subprocess

import pytest

from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from compute.tests.test_servers_api import error, image, paths  # fixtures and helpers shared
from conftest import TokenClient
from floating.services import ranges
from network.services import fixed_ips, networks

API = "/compute/v2.1"
HOST = "fip-a"


@pytest.fixture(autouse=True)
def networks_path(settings, tmp_path, paths):  # `paths`: the compute tests' state folders
    settings.NETWORKS_PATH = tmp_path / "networks"


@pytest.fixture
def fixed_network(db):
    return networks.create_network("fipnet", "10.239.0.0/24", bridge="cptfipu0", bridge_interface="")


@pytest.fixture
def pool(db):
    return ranges.create_range("198.51.100.0/29", pool="public", interface="cptfipx0")


@pytest.fixture
def netadmin_account(make_account, member_account):
    return make_account("demo", "netadmin", username="demo-netadmin")


@pytest.fixture
def netadmin_client(netadmin_account):
    return TokenClient(netadmin_account[2])


@pytest.fixture
def other_netadmin_client(make_account):
    return TokenClient(make_account("other", "netadmin", username="other-netadmin")[2])


def boot_placed(client, image, network, name="vm", host=HOST) -> Instance:
    """A server as the pipeline leaves it: ACTIVE on `host` with a fixed IP on `network`."""
    body = {"server": {"name": name, "imageRef": str(image.id), "flavorRef": "1"}}
    response = client.post(f"{API}/servers", body, format="json")
    assert response.status_code == 202, response.content
    row = Instance.all_objects.get(uuid=response.json()["server"]["id"])
    fixed_ips.allocate_fixed_ip(network, row.uuid, host=host, hostname=name)
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1, host=host)
    return row


def act(client, server_id, body):
    return client.post(f"{API}/servers/{server_id}/action", body, format="json")


def range_in_use(cidr: str) -> str | None:
    """An address or route of this machine inside `cidr` (a test must not shadow the machine's
    own network), or None."""
    net = ipaddress.IPv4Network(cidr)
    addrs = json.loads(subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True, text=True).stdout or "[]")
    for link in addrs:
        for info in link.get("addr_info", []):
            if ipaddress.IPv4Interface(f"{info['local']}/{info['prefixlen']}").network.overlaps(net):
                return f"{info['local']}/{info['prefixlen']} on {link['ifname']}"
    routes = json.loads(subprocess.run(["ip", "-j", "-4", "route"], capture_output=True, text=True).stdout or "[]")
    for route in routes:
        dst = route.get("dst", "")
        if dst and dst != "default" and ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32").overlaps(net):
            return f"route {dst}"
        if route.get("gateway") and ipaddress.IPv4Address(route["gateway"]) in net:
            return f"gateway {route['gateway']}"
    return None
