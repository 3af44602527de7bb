"""The OpenStack client's nova-network lookup (what `server create --nic net-id=NAME` does when
the catalog has no network endpoint) against a live server: openstackclient's own find_network.

(This OSC release no longer offers `openstack network list` without Neutron, so the lookup
function is exercised directly, through a real openstacksdk session.)
"""
import pytest

from network.services import networks

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
