"""The pinned OpenStack client (9.x) against a live server: its compute-API network lookup
(openstackclient's own find_network over /os-networks, still served for the clients that use
it), and, now that the catalog has a `network` entry, `openstack network list/show`, `subnet
show` and `server create --nic net-id=` through the Networking API (VLAN manager).
"""
import pytest

from network.models import Network
from network.services import networks, neutron

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def compute_client(live_server, admin_account):
    import openstack

    conn = openstack.connect(
        auth_url=f"{live_server.url}/identity", username="admin", password="secret-pass", project_name="admin",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
        interface="public", identity_api_version="3",
    )
    yield conn.compute
    conn.close()


def test_find_network_by_name_or_id(compute_client):
    from openstackclient.api import compute_v2
    from osc_lib import exceptions

    network = networks.create_network("oscnet", "10.200.60.0/24", bridge="cptosc1", bridge_interface="")
    assert compute_v2.find_network(compute_client, "oscnet")["id"] == str(network.uuid)
    found = compute_v2.find_network(compute_client, str(network.uuid))
    assert (found["label"], found["cidr"]) == ("oscnet", "10.200.60.0/24")
    with pytest.raises(exceptions.NotFound):
        compute_v2.find_network(compute_client, "nope")
    listed = compute_v2.list_networks(compute_client) if hasattr(compute_v2, "list_networks") else None
    if listed is not None:
        assert [n["label"] for n in listed] == ["oscnet"]


@pytest.fixture
def vlan_cloud(settings, admin_account, member_account, tmp_path, monkeypatch):
    """VLAN manager, two pool networks, the tiny image and flavors; tasks recorded, not sent."""
    import io

    from cloudproj.celery import app
    from compute.services.flavors import ensure_default_flavors
    from images.models import Image
    from images.services.registry import register_image
    from network.services import vlan

    monkeypatch.setattr(app, "send_task", lambda *a, **k: None)
    settings.NETWORK_MANAGER = "vlan"
    settings.VLAN_BRIDGE_PREFIX = "cptvl"
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    ensure_default_flavors()
    register_image(io.BytesIO(b"x" * 4096), "tiny-img", disk_format="raw", visibility=Image.PUBLIC)
    return vlan.create_vlan_networks("oscvl", "10.241.40.0/23", vlan_start=3800, num_networks=2, network_size=256)


def test_openstack_network_list_show_and_server_create_nic(osc, vlan_cloud):
    from compute.models import Instance

    member = dict(user="demo-user", project="demo")
    assert osc("network", "list", **member) == []  # the pool is nobody's yet
    # the member's first server takes a network of the pool (no --nic: its own network)
    first = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "vm-a", **member)
    own = Instance.objects.get(uuid=first["id"]).requested_networks[0]["uuid"]
    # with a network entry in the catalog the client speaks the Networking API (/network/v2.0)
    listed = osc("network", "list", **member)
    subnet = neutron.subnet_id(Network.objects.get(uuid=own))
    assert [(n["ID"], n["Name"], n["Subnets"]) for n in listed] == [(own, "oscvl_1", [subnet])]
    shown = osc("network", "show", "oscvl_1", **member)
    assert (shown["id"], shown["name"], shown["subnets"], shown["status"]) == (own, "oscvl_1", [subnet], "ACTIVE")
    assert osc("subnet", "show", subnet, **member)["cidr"] == "10.241.40.0/24"
    # --nic net-id=<name> and =<id> resolve through /network/v2.0/networks
    for key in ("oscvl_1", own):
        created = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "--nic", f"net-id={key}",
                      "vm-b", **member)
        assert Instance.objects.get(uuid=created["id"]).requested_networks == [{"uuid": own}]
    # the other pool network is not the member's: not found
    failed = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "--nic", "net-id=oscvl_2",
                 "vm-c", check=False, **member)
    assert failed.returncode != 0
    admin = osc("network", "list")
    assert [n["Name"] for n in admin] == ["oscvl_1", "oscvl_2"]
    assert osc("network", "show", "oscvl_2")["provider:segmentation_id"] == 3801
