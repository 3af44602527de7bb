"""/compute/v2.1/os-networks as clients see it (bodies, visibility, 403/404/409)."""
import uuid

import pytest

from network.models import Network
from network.services import fixed_ips, networks

pytestmark = pytest.mark.django_db

BASE = "/compute/v2.1/os-networks"


@pytest.fixture
def nets(member_account, make_account):
    _, project, _ = member_account
    _, other, _ = make_account("other-proj", "member")
    shared = networks.create_network("shared", "10.200.50.0/24", bridge="cptapi1", bridge_interface="",
                                     dns1="8.8.4.4")
    own = networks.create_network("mine", "10.200.51.0/24", bridge="cptapi2", bridge_interface="", project=project)
    theirs = networks.create_network("theirs", "10.200.52.0/24", bridge="cptapi3", bridge_interface="",
                                     project=other)
    return shared, own, theirs


def test_list_shows_shared_and_own_networks(nets, member_client, admin_client):
    shared, own, theirs = nets
    for suffix in ("", "/"):
        body = member_client.get(BASE + suffix).json()
        assert [n["label"] for n in body["networks"]] == ["shared", "mine"]
    assert set(body["networks"][0]) == {"id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2",
                                        "cidr_v6", "gateway_v6", "label", "netmask_v6"}
    admin = admin_client.get(BASE).json()["networks"]
    assert [n["label"] for n in admin] == ["shared", "mine", "theirs"]
    assert admin[2]["project_id"] == theirs.project_id


def test_show_by_uuid_or_label(nets, member_client, admin_client):
    shared, own, theirs = nets
    response = admin_client.get(f"{BASE}/{shared.uuid}")
    assert response.status_code == 200
    body = response.json()["network"]
    assert body["id"] == str(shared.uuid)
    assert {k: body[k] for k in ("label", "cidr", "netmask", "gateway", "broadcast", "dhcp_start", "dns1", "dns2",
                                 "bridge", "bridge_interface", "multi_host", "project_id", "vlan", "host",
                                 "cidr_v6")} == {
        "label": "shared", "cidr": "10.200.50.0/24", "netmask": "255.255.255.0", "gateway": "10.200.50.1",
        "broadcast": "10.200.50.255", "dhcp_start": "10.200.50.2", "dns1": "8.8.4.4", "dns2": None,
        "bridge": "cptapi1", "bridge_interface": None, "multi_host": False, "project_id": None, "vlan": None,
        "host": None, "cidr_v6": None}
    assert member_client.get(f"{BASE}/mine/").json()["network"]["id"] == str(own.uuid)
    for key in ("theirs", str(theirs.uuid), "nothing", str(uuid.uuid4())):
        response = member_client.get(f"{BASE}/{key}")
        assert response.status_code == 404
        assert response.json()["itemNotFound"]["code"] == 404


def test_create_and_delete_are_admin_only(nets, member_client, admin_client):
    shared = nets[0]
    body = {"network": {"label": "new", "cidr": "10.200.53.0/24", "bridge": "cptapi4"}}
    response = member_client.post(BASE, body, format="json")
    assert response.status_code == 403 and "forbidden" in response.json()
    assert member_client.delete(f"{BASE}/{shared.uuid}").status_code == 403

    response = admin_client.post(BASE, body, format="json")
    assert response.status_code == 200, response.json()
    created = response.json()["network"]
    assert (created["label"], created["cidr"], created["gateway"]) == ("new", "10.200.53.0/24", "10.200.53.1")
    overlap = admin_client.post(BASE, {"network": {"label": "x", "cidr": "10.200.53.0/25", "bridge": "cptapi5"}},
                                format="json")
    assert overlap.status_code == 400 and "overlaps network new" in overlap.json()["badRequest"]["message"]
    assert admin_client.post(BASE, {"network": {"label": "x"}}, format="json").status_code == 400

    network = Network.objects.get(label="new")
    vm = uuid.uuid4()
    fixed_ips.allocate_fixed_ip(network, vm)
    busy = admin_client.delete(f"{BASE}/{network.uuid}")
    assert busy.status_code == 409 and "still in use" in busy.json()["conflictingRequest"]["message"]
    fixed_ips.release_fixed_ip(vm)
    assert admin_client.delete(f"{BASE}/{network.uuid}").status_code == 202
    assert admin_client.get(f"{BASE}/{network.uuid}").status_code == 404


def test_unauthenticated_is_401(anon_client):
    assert anon_client.get(BASE).status_code == 401
