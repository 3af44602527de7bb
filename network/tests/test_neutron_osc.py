"""Today's clients against a live server: the latest python-openstackclient (network, subnet,
port and server commands through the Networking API) and the latest openstacksdk
(conn.network). No worker runs: the tasks the API queues are recorded, not sent, and a
server's address is allocated in the DB as its boot would."""
import io

import pytest

from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from compute.services.flavors import ensure_default_flavors
from floating.services import pools, ranges
from images.models import Image
from images.services.registry import register_image
from network.models import Network
from network.services import fixed_ips, networks, neutron

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MEMBER = {"user": "demo-user", "project": "demo"}


@pytest.fixture
def cloud(admin_account, member_account, settings, tmp_path, monkeypatch):
    from cloudproj.celery import app

    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: sent.append((name, args)))
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.FLAT_NETWORK_BRIDGE = "cptnosc0"
    settings.FLAT_INTERFACE = ""
    ensure_default_flavors()
    register_image(io.BytesIO(b"x" * 4096), "tiny-img", disk_format="raw", visibility=Image.PUBLIC)
    private = networks.create_network("private", "10.200.90.0/24", bridge="cptnosc1", bridge_interface="")
    ranges.create_range("198.51.100.8/29", pool="public", interface="cptnoscx")
    return {"private": private, "sent": sent}


def boot(osc, name, *args):
    """A server created with the latest CLI, then placed ACTIVE with an address as its boot would."""
    created = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", *args, name, **MEMBER)
    row = Instance.objects.get(uuid=created["id"])
    network = Network.objects.get(uuid=row.requested_networks[0]["uuid"]) if row.requested_networks else \
        Network.objects.get(label="private")
    address = fixed_ips.allocate_fixed_ip(network, row.uuid, host="h1", hostname=name)
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1, host="h1")
    return row, address


def test_network_subnet_and_port_commands(latest_osc, cloud):
    osc = latest_osc
    private = cloud["private"]
    subnet_id = neutron.subnet_id(private)
    listed = osc("network", "list", **MEMBER)
    assert [(n["ID"], n["Name"], n["Subnets"]) for n in listed] == [
        (str(private.uuid), "private", [subnet_id]), (pools.pool_network_id("public"), "public", [])]
    assert [n["Name"] for n in osc("network", "list", "--external", **MEMBER)] == ["public"]
    shown = osc("network", "show", "private", **MEMBER)
    assert (shown["id"], shown["status"], shown["shared"], shown["router:external"], shown["mtu"]) == (
        str(private.uuid), "ACTIVE", True, False, 1500)
    subnets = osc("subnet", "list", **MEMBER)
    assert [(s["ID"], s["Network"], s["Subnet"]) for s in subnets] == [(subnet_id, str(private.uuid),
                                                                        "10.200.90.0/24")]
    subnet = osc("subnet", "show", subnet_id, **MEMBER)
    assert (subnet["gateway_ip"], subnet["enable_dhcp"], subnet["ip_version"]) == ("10.200.90.1", True, 4)
    assert osc("subnet", "list", "--network", "private", **MEMBER)[0]["ID"] == subnet_id

    # server create --network <name>: OSC resolves it through /network/v2.0/networks
    server, address = boot(osc, "vm1", "--network", "private")
    assert server.requested_networks == [{"uuid": str(private.uuid)}]
    other, _ = boot(osc, "vm2")
    ports = osc("port", "list", "--server", str(server.uuid), **MEMBER)
    assert [(p["ID"], p["MAC Address"], p["Fixed IP Addresses"][0]["ip_address"]) for p in ports] == [
        (str(address.port_id), address.mac_address, address.address)]
    assert len(osc("port", "list", **MEMBER)) == 2
    port = osc("port", "show", str(address.port_id), **MEMBER)
    assert (port["device_id"], port["device_owner"], port["status"]) == (str(server.uuid), "compute:nova",
                                                                        "ACTIVE")
    # --nic port-id= of a port: it is another server's address
    failed = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "--nic",
                 f"port-id={address.port_id}", "vm3", check=False, **MEMBER)
    assert failed.returncode != 0 and "in use" in failed.stderr


def test_admin_creates_and_deletes_a_network_with_the_cli(latest_osc, cloud):
    osc = latest_osc
    created = osc("network", "create", "n1")
    assert (created["name"], created["status"]) == ("n1", "ACTIVE")
    subnet = osc("subnet", "create", "--network", "n1", "--subnet-range", "10.200.91.0/24", "s1")
    assert (subnet["cidr"], subnet["gateway_ip"], subnet["name"]) == ("10.200.91.0/24", "10.200.91.1", "s1")
    row = Network.objects.get(uuid=created["id"])
    # the first network on FLAT_NETWORK_BRIDGE (free here), FlatDHCP (the default manager)
    assert (row.label, row.cidr, row.bridge, row.injected) == ("n1", "10.200.91.0/24", "cptnosc0", False)
    assert row.fixed_ips.filter(reserved=False).count() == 253  # nova-network's addresses, ready to boot
    assert osc("network", "show", "n1")["subnets"] == [subnet["id"]]
    refused = osc("network", "create", "n2", check=False, **MEMBER)
    assert refused.returncode != 0 and "403" in refused.stderr + refused.stdout
    osc("network", "delete", "n1", raw=True)
    assert not Network.objects.filter(uuid=created["id"]).exists()
    assert [n["Name"] for n in osc("network", "list")] == ["private", "public"]


def test_openstacksdk_network_proxy(latest_sdk, cloud, member_account):
    private = cloud["private"]
    user, project, _ = member_account
    from cloudproj.testing.factories import make_instance

    vm = make_instance(project, user, vm_state=states.ACTIVE, task_state=None)
    address = fixed_ips.allocate_fixed_ip(private, vm.uuid, host="h1")
    result = latest_sdk(f"""
        nets = [(n.name, n.id, n.is_shared, n.is_router_external) for n in conn.network.networks()]
        found = conn.network.find_network("private")
        by_id = conn.network.find_network("{private.uuid}")
        ports = [(p.id, p.device_id, [f["ip_address"] for f in p.fixed_ips])
                 for p in conn.network.ports(device_id="{vm.uuid}")]
        none = list(conn.network.ports(device_id="00000000-0000-0000-0000-000000000000"))
        subnet = conn.network.get_subnet(found.subnet_ids[0])
        print(json.dumps({{"nets": nets, "found": found.id, "by_id": by_id.name, "ports": ports,
                          "none": len(none), "cidr": subnet.cidr, "missing": conn.network.find_network("zz")}}))
    """, **MEMBER)
    assert result["nets"] == [["private", str(private.uuid), True, False],
                              ["public", pools.pool_network_id("public"), False, True]]
    assert (result["found"], result["by_id"], result["cidr"], result["missing"]) == (
        str(private.uuid), "private", "10.200.90.0/24", None)
    assert result["ports"] == [[str(address.port_id), str(vm.uuid), [address.address]]]
    assert result["none"] == 0


def test_quota_show_and_set_include_the_networking_quotas(latest_osc, cloud, member_account):
    osc = latest_osc
    project = member_account[1]
    osc("quota", "set", "--ports", "40", "--floating-ips", "4", project.id, raw=True)
    shown = osc("quota", "show", project.id)
    values = {row["Resource"]: row["Limit"] for row in shown} if isinstance(shown, list) else shown
    assert values["ports"] == 40 and values["floating_ips"] == 4  # one engine: compute's and network's agree
    assert values["networks"] == values["subnets"] == -1
