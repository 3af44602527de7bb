"""The Networking API v2.0 as clients see it: networks, subnets, ports, quotas, extensions
(bodies, filters, fields, pagination, Neutron's envelope, 403/404/409)."""
import uuid

import pytest

from cloudproj.testing.clients import TokenClient
from cloudproj.testing.factories import make_instance
from compute import states
from floating.services import pools, ranges
from network.models import Network, PendingNetwork
from network.services import fixed_ips, networks
from network.services import neutron as neutron_svc

pytestmark = pytest.mark.django_db

V2 = "/network/v2.0"


def error(response, status, error_type=None):
    assert response.status_code == status, response.content[:600]
    body = response.json()["NeutronError"]
    if error_type:
        assert body["type"] == error_type, body
    return body["message"]


@pytest.fixture
def world(member_account, make_account):
    """A shared network, the member's own, another project's, a floating pool, and servers."""
    user, project, _ = member_account
    other_user, other, _ = make_account("other-proj", "member")
    shared = networks.create_network("shared", "10.200.70.0/24", bridge="cptnn1", bridge_interface="",
                                     dns1="8.8.4.4")
    own = networks.create_network("mine", "10.200.71.0/24", bridge="cptnn2", bridge_interface="", project=project)
    theirs = networks.create_network("theirs", "10.200.72.0/24", bridge="cptnn3", bridge_interface="",
                                     project=other)
    ranges.create_range("198.51.100.0/29", pool="public", interface="cptnnx0")
    vm = make_instance(project, user, vm_state=states.ACTIVE, task_state=None)
    vm2 = make_instance(project, user)
    foreign = make_instance(other, other_user)
    ports = {
        "vm": fixed_ips.allocate_fixed_ip(shared, vm.uuid, host="h1", hostname="vm"),
        "vm-own": fixed_ips.allocate_fixed_ip(own, vm.uuid, host="h1", hostname="vm"),
        "vm2": fixed_ips.allocate_fixed_ip(shared, vm2.uuid, host="h2", hostname="vm2"),
        "foreign": fixed_ips.allocate_fixed_ip(theirs, foreign.uuid, host="h1"),
    }
    return {"shared": shared, "own": own, "theirs": theirs, "vm": vm, "vm2": vm2, "foreign": foreign,
            "ports": ports, "project": project, "other": other}


# --- networks -----------------------------------------------------------------------------------

def test_network_list_and_show_as_a_member(world, member_client):
    body = member_client.get(f"{V2}/networks").json()
    names = [n["name"] for n in body["networks"]]
    assert names == ["shared", "mine", "public"]
    shared = body["networks"][0]
    assert shared == {
        "id": str(world["shared"].uuid), "name": "shared", "status": "ACTIVE",
        "subnets": [neutron_svc.subnet_id(world["shared"])], "shared": True, "router:external": False,
        "admin_state_up": True, "mtu": 1500, "project_id": None, "tenant_id": None, "description": "",
        "created_at": shared["created_at"], "updated_at": shared["updated_at"]}
    assert shared["created_at"].endswith("Z") and len(shared["created_at"]) == 20
    mine = body["networks"][1]
    assert (mine["shared"], mine["project_id"]) == (False, world["project"].id)
    public = body["networks"][2]
    assert public["id"] == pools.pool_network_id("public")
    assert (public["router:external"], public["shared"], public["status"], public["subnets"]) == (
        True, False, "ACTIVE", [])
    for suffix in ("", "/", ".json"):
        show = member_client.get(f"{V2}/networks/{world['own'].uuid}{suffix}")
        assert show.status_code == 200 and show.json()["network"] == mine
    assert member_client.get(f"{V2}/networks/{public['id']}").json()["network"]["name"] == "public"
    for missing in (world["theirs"].uuid, uuid.uuid4(), "mine"):
        error(member_client.get(f"{V2}/networks/{missing}"), 404, "NetworkNotFound")


def test_admin_sees_every_network_with_provider_attributes(world, admin_client):
    body = admin_client.get(f"{V2}/networks").json()["networks"]
    assert [n["name"] for n in body] == ["shared", "mine", "theirs", "public"]
    assert body[0]["provider:network_type"] == "flat" and body[0]["provider:segmentation_id"] is None


def test_network_filters_fields_and_pagination(world, member_client):
    def names(query):
        response = member_client.get(f"{V2}/networks{query}")
        assert response.status_code == 200, response.content
        return [n.get("name") for n in response.json()["networks"]]

    assert names("?name=mine") == ["mine"]
    assert names("?name=mine&name=shared") == ["shared", "mine"]
    assert names(f"?id={world['shared'].uuid}") == ["shared"]
    assert names("?shared=true") == ["shared"]
    assert names("?shared=False") == ["mine", "public"]
    assert names("?router:external=true") == ["public"]
    assert names("?router%3Aexternal=false&shared=false") == ["mine"]
    assert names("?status=ACTIVE") == ["shared", "mine", "public"]
    assert names(f"?project_id={world['project'].id}") == ["mine"]
    assert names(f"?tenant_id={world['project'].id}") == ["mine"]
    assert names("?name=nothing") == []
    assert names("?sort_key=name&sort_dir=desc") == ["shared", "public", "mine"]
    only = member_client.get(f"{V2}/networks?fields=id&fields=name").json()["networks"]
    assert all(set(n) == {"id", "name"} for n in only)
    page = member_client.get(f"{V2}/networks?limit=2").json()
    assert [n["name"] for n in page["networks"]] == ["shared", "mine"]
    next_href = page["networks_links"][0]["href"]
    assert page["networks_links"][0]["rel"] == "next"
    rest = member_client.get(next_href.replace("http://testserver", "")).json()
    assert [n["name"] for n in rest["networks"]] == ["public"] and "networks_links" not in rest
    error(member_client.get(f"{V2}/networks?colour=red"), 400, "HTTPBadRequest")
    error(member_client.get(f"{V2}/networks?shared=perhaps"), 400, "InvalidInput")
    error(member_client.get(f"{V2}/networks?provider:network_type=flat"), 400)  # admins' attribute


def test_network_writes_are_admin_only_in_the_envelope(world, member_client):
    error(member_client.post(f"{V2}/networks", {"network": {"name": "n1"}}, format="json"), 403,
          "PolicyNotAuthorized")
    error(member_client.put(f"{V2}/networks/{world['own'].uuid}", {"network": {"name": "x"}}, format="json"),
          403, "PolicyNotAuthorized")
    error(member_client.delete(f"{V2}/networks/{world['own'].uuid}"), 403, "PolicyNotAuthorized")
    error(member_client.post(f"{V2}/subnets", {"subnet": {"network_id": str(world["own"].uuid),
                                                          "cidr": "10.1.0.0/24"}}, format="json"), 403)
    assert Network.objects.get(pk=world["own"].pk).label == "mine"


def test_network_then_subnet_makes_a_nova_network_network(world, admin_client, member_client, admin_account,
                                                          settings):
    settings.FLAT_NETWORK_BRIDGE = "cptnn1"  # in use: the new network gets a bridge of its own
    created = admin_client.post(f"{V2}/networks", {"network": {"name": "n1", "admin_state_up": True}},
                                format="json")
    assert created.status_code == 201, created.content
    net = created.json()["network"]
    assert (net["name"], net["subnets"], net["status"], net["shared"]) == ("n1", [], "ACTIVE", False)
    assert net["project_id"] == admin_account[1].id
    assert admin_client.get(f"{V2}/networks?name=n1").json()["networks"][0]["id"] == net["id"]
    assert member_client.get(f"{V2}/networks?name=n1").json()["networks"] == []  # the admin project's
    error(admin_client.post(f"{V2}/networks", {"network": {"name": "n1"}}, format="json"), 409)

    body = {"subnet": {"network_id": net["id"], "cidr": "10.200.80.0/24", "ip_version": 4, "name": "s1",
                       "dns_nameservers": ["192.0.2.53"], "enable_dhcp": True}}
    subnet = admin_client.post(f"{V2}/subnets", body, format="json")
    assert subnet.status_code == 201, subnet.content
    s1 = subnet.json()["subnet"]
    assert {k: s1[k] for k in ("name", "network_id", "cidr", "gateway_ip", "allocation_pools", "enable_dhcp",
                               "dns_nameservers", "ip_version", "host_routes")} == {
        "name": "s1", "network_id": net["id"], "cidr": "10.200.80.0/24", "gateway_ip": "10.200.80.1",
        "allocation_pools": [{"start": "10.200.80.2", "end": "10.200.80.254"}], "enable_dhcp": True,
        "dns_nameservers": ["192.0.2.53"], "ip_version": 4, "host_routes": []}
    row = Network.objects.get(uuid=net["id"])
    assert (row.label, row.cidr, row.bridge, row.bridge_interface, row.injected, row.dns1) == (
        "n1", "10.200.80.0/24", "brq" + uuid.UUID(net["id"]).hex[:11], "", False, "192.0.2.53")
    assert row.project_id == admin_account[1].id
    assert not PendingNetwork.objects.exists()
    shown = admin_client.get(f"{V2}/networks/{net['id']}").json()["network"]
    assert shown["subnets"] == [s1["id"]]
    assert admin_client.get(f"{V2}/subnets/{s1['id']}").json()["subnet"] == s1
    error(admin_client.post(f"{V2}/subnets", body, format="json"), 409)  # one subnet per network
    error(admin_client.delete(f"{V2}/subnets/{s1['id']}"), 409)
    renamed = admin_client.put(f"{V2}/networks/{net['id']}", {"network": {"name": "n1b", "description": "d"}},
                               format="json").json()["network"]
    assert (renamed["name"], renamed["description"]) == ("n1b", "d")

    vm = uuid.uuid4()
    fixed_ips.allocate_fixed_ip(row, vm)
    error(admin_client.delete(f"{V2}/networks/{net['id']}"), 409, "NetworkInUse")
    fixed_ips.release_fixed_ip(vm)
    assert admin_client.delete(f"{V2}/networks/{net['id']}").status_code == 204
    error(admin_client.get(f"{V2}/networks/{net['id']}"), 404, "NetworkNotFound")
    error(admin_client.get(f"{V2}/subnets/{s1['id']}"), 404, "SubnetNotFound")


def test_bad_network_and_subnet_bodies_are_400(world, admin_client):
    net = admin_client.post(f"{V2}/networks", {"network": {"name": "n2", "shared": True}},
                            format="json").json()["network"]
    assert net["shared"] is True and net["project_id"] is None
    for body in ({"network": {"name": "x", "colour": 1}}, {"network": {"name": "x", "router:external": True}},
                 {"network": {"name": "x", "admin_state_up": False}}, {"network": "x"}, {},
                 {"network": {"name": "x", "mtu": 100}}, {"network": {"name": ""}},
                 {"network": {"name": "x", "provider:network_type": "vxlan"}}):
        error(admin_client.post(f"{V2}/networks", body, format="json"), 400)
    subnet = {"network_id": net["id"], "cidr": "10.200.81.0/24"}
    for extra in ({"cidr": "10.200.81.0/33"}, {"cidr": "nope"}, {"ip_version": 6, "cidr": "2001:db8::/64"},
                  {"gateway_ip": "10.200.81.9"}, {"gateway_ip": None},
                  {"allocation_pools": [{"start": "10.200.81.10", "end": "10.200.81.20"}]},
                  {"dns_nameservers": ["not-an-ip"]}, {"cidr": "10.200.70.0/24"},  # overlaps "shared"
                  {"cidr": "10.0.0.0/8"}, {"host_routes": [{"destination": "0.0.0.0/0", "nexthop": "1.1.1.1"}]}):
        error(admin_client.post(f"{V2}/subnets", {"subnet": {**subnet, **extra}}, format="json"), 400)
    error(admin_client.post(f"{V2}/subnets", {"subnet": {"network_id": str(uuid.uuid4()), "cidr": "10.9.0.0/24"}},
                            format="json"), 404, "NetworkNotFound")
    assert PendingNetwork.objects.filter(uuid=net["id"]).exists()  # nothing half-written
    ok = admin_client.post(f"{V2}/subnets", {"subnet": subnet}, format="json")
    assert ok.status_code == 201
    error(admin_client.delete(f"{V2}/networks/{pools.pool_network_id('public')}"), 400)


def test_vlan_manager_networks_get_the_next_vlan(world, admin_client, settings):
    settings.NETWORK_MANAGER = "vlan"
    settings.VLAN_START = 3900
    settings.VLAN_BRIDGE_PREFIX = "cptv"
    settings.VLAN_INTERFACE = ""
    net = admin_client.post(f"{V2}/networks", {"network": {"name": "v1", "provider:network_type": "vlan"}},
                            format="json").json()["network"]
    assert net["provider:network_type"] == "vlan"
    ok = admin_client.post(f"{V2}/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.200.82.0/24"}},
                           format="json")
    assert ok.status_code == 201, ok.content
    row = Network.objects.get(uuid=net["id"])
    assert (row.vlan, row.bridge) == (3900, "cptv3900")
    shown = admin_client.get(f"{V2}/networks/{net['id']}").json()["network"]
    assert (shown["provider:network_type"], shown["provider:segmentation_id"]) == ("vlan", 3900)
    error(admin_client.post(f"{V2}/networks", {"network": {"name": "v2", "provider:segmentation_id": 3900}},
                            format="json"), 409)


# --- subnets ------------------------------------------------------------------------------------

def test_subnets_list_show_and_filters(world, member_client):
    body = member_client.get(f"{V2}/subnets").json()["subnets"]
    assert [s["cidr"] for s in body] == ["10.200.70.0/24", "10.200.71.0/24"]
    shared = body[0]
    assert shared["id"] == neutron_svc.subnet_id(world["shared"])
    assert neutron_svc.subnet_id(world["shared"]) == neutron_svc.subnet_id(Network.objects.get(label="shared"))
    assert shared["dns_nameservers"] == ["8.8.4.4"] and shared["enable_dhcp"] is True
    by_net = member_client.get(f"{V2}/subnets?network_id={world['own'].uuid}").json()["subnets"]
    assert [s["cidr"] for s in by_net] == ["10.200.71.0/24"]
    assert member_client.get(f"{V2}/subnets?cidr=10.200.70.0/24&fields=id").json()["subnets"] == [
        {"id": shared["id"]}]
    assert member_client.get(f"{V2}/subnets?ip_version=4").json()["subnets"] == body
    error(member_client.get(f"{V2}/subnets/{neutron_svc.subnet_id(world['theirs'])}"), 404, "SubnetNotFound")


# --- ports --------------------------------------------------------------------------------------

def test_ports_of_the_members_servers(world, member_client):
    ports = member_client.get(f"{V2}/ports").json()["ports"]
    rows = world["ports"]
    assert {p["id"] for p in ports} == {str(rows[k].port_id) for k in ("vm", "vm-own", "vm2")}
    port = member_client.get(f"{V2}/ports/{rows['vm'].port_id}").json()["port"]
    assert {k: port[k] for k in ("network_id", "device_id", "device_owner", "mac_address", "fixed_ips",
                                 "status", "admin_state_up", "project_id", "tenant_id")} == {
        "network_id": str(world["shared"].uuid), "device_id": str(world["vm"].uuid), "device_owner": "compute:nova",
        "mac_address": rows["vm"].mac_address, "status": "ACTIVE", "admin_state_up": True,
        "fixed_ips": [{"subnet_id": neutron_svc.subnet_id(world["shared"]), "ip_address": rows["vm"].address}],
        "project_id": world["project"].id, "tenant_id": world["project"].id}
    assert "binding:host_id" not in port
    assert isinstance(port["security_groups"], list)
    assert member_client.get(f"{V2}/ports/{rows['vm2'].port_id}").json()["port"]["status"] == "DOWN"
    error(member_client.get(f"{V2}/ports/{rows['foreign'].port_id}"), 404, "PortNotFound")
    error(member_client.get(f"{V2}/ports/{uuid.uuid4()}"), 404, "PortNotFound")


def test_port_filters_are_applied_on_the_server(world, member_client, admin_client):
    rows = world["ports"]

    def ids(query, client=member_client):
        response = client.get(f"{V2}/ports?{query}")
        assert response.status_code == 200, response.content
        return {p["id"] for p in response.json()["ports"]}

    def port(*keys):
        return {str(rows[k].port_id) for k in keys}

    assert ids(f"device_id={world['vm'].uuid}") == port("vm", "vm-own")
    assert ids(f"device_id={world['vm'].uuid}&network_id={world['own'].uuid}") == port("vm-own")
    assert ids(f"network_id={world['shared'].uuid}") == port("vm", "vm2")
    assert ids(f"id={rows['vm2'].port_id}") == port("vm2")
    assert ids(f"mac_address={rows['vm2'].mac_address}") == port("vm2")
    assert ids(f"fixed_ips=ip_address%3D{rows['vm'].address}") == port("vm")
    assert ids(f"fixed_ips=subnet_id%3D{neutron_svc.subnet_id(world['own'])}") == port("vm-own")
    assert ids("device_owner=compute:nova") == port("vm", "vm-own", "vm2")
    assert ids("device_owner=network:dhcp") == set()
    assert ids("status=ACTIVE") == port("vm", "vm-own")
    assert ids(f"device_id={world['foreign'].uuid}") == set()  # another project's server
    assert ids("device_id=not-a-uuid") == set()
    assert ids(f"project_id={world['other'].id}", admin_client) == port("foreign")
    admin_port = admin_client.get(f"{V2}/ports/{rows['foreign'].port_id}").json()["port"]
    assert admin_port["binding:host_id"] == "h1"
    error(member_client.get(f"{V2}/ports?fixed_ips=bogus"), 400)
    assert [p["id"] for p in member_client.get(f"{V2}/ports?fields=id&limit=1").json()["ports"]]


def test_ports_cannot_be_created_changed_or_deleted(world, member_client):
    port_id = world["ports"]["vm"].port_id
    assert "when the server boots" in error(member_client.post(f"{V2}/ports", {"port": {}}, format="json"), 400)
    error(member_client.put(f"{V2}/ports/{port_id}", {"port": {"name": "x"}}, format="json"), 409, "PortInUse")
    error(member_client.delete(f"{V2}/ports/{port_id}"), 409, "PortInUse")


# --- quotas -------------------------------------------------------------------------------------

def test_quotas(world, member_client, admin_client, other_client):
    project = world["project"].id
    quota = member_client.get(f"{V2}/quotas/{project}").json()["quota"]
    assert set(quota) == {"network", "subnet", "port", "floatingip", "security_group", "security_group_rule"}
    assert quota["network"] == -1 and quota["floatingip"] >= 0
    details = member_client.get(f"{V2}/quotas/{project}/details.json").json()["quota"]
    assert details["port"] == {"limit": quota["port"], "used": 3, "reserved": 0}
    assert details["network"]["used"] == 1 and details["subnet"]["used"] == 1
    error(member_client.put(f"{V2}/quotas/{project}", {"quota": {"floatingip": 3}}, format="json"), 403)
    assert other_client.get(f"{V2}/quotas/{project}").status_code in (403, 404)
    updated = admin_client.put(f"{V2}/quotas/{project}", {"quota": {"floatingip": 3, "port": 50}}, format="json")
    assert updated.status_code == 200 and updated.json()["quota"]["floatingip"] == 3
    assert member_client.get(f"{V2}/quotas/{project}").json()["quota"]["port"] == 50
    listed = admin_client.get(f"{V2}/quotas").json()["quotas"]
    assert [q["project_id"] for q in listed] == [project] and listed[0]["floatingip"] == 3
    error(member_client.get(f"{V2}/quotas"), 403)
    for bad in ({"quota": {"floatingip": "x"}}, {"quota": {"router": 1}}, {"quota": {"network": 5}},
                {"quota": {"floatingip": -2}}):
        error(admin_client.put(f"{V2}/quotas/{project}", bad, format="json"), 400)
    below = admin_client.put(f"{V2}/quotas/{project}", {"quota": {"port": 1, "check_limit": True}}, format="json")
    assert below.status_code == 400  # 3 ports in use
    assert admin_client.put(f"{V2}/quotas/{project}", {"quota": {"port": 1}}, format="json").status_code == 200
    default = member_client.get(f"{V2}/quotas/{project}/default").json()["quota"]
    assert default["floatingip"] == quota["floatingip"]
    assert admin_client.delete(f"{V2}/quotas/{project}").status_code == 204
    assert member_client.get(f"{V2}/quotas/{project}").json()["quota"] == quota
    error(admin_client.get(f"{V2}/quotas/nope"), 404)


# --- extensions and resources --------------------------------------------------------------------

def test_extensions_list_exactly_what_is_served(member_client):
    extensions = member_client.get(f"{V2}/extensions").json()["extensions"]
    aliases = {e["alias"] for e in extensions}
    assert {"quotas", "project-id", "provider", "external-net", "binding", "standard-attr-timestamp"} <= aliases
    assert not aliases & {"router", "l3", "dvr", "trunk", "qos", "tag"}
    assert all(set(e) == {"alias", "name", "description", "updated", "links"} for e in extensions)
    assert member_client.get(f"{V2}/extensions/quotas").json()["extension"]["alias"] == "quotas"
    error(member_client.get(f"{V2}/extensions/router"), 404)
    resources = {r["collection"] for r in member_client.get(f"{V2}/").json()["resources"]}
    assert {"networks", "subnets", "ports", "quotas", "extensions"} <= resources


# --- the compute API: --nic port-id= --------------------------------------------------------------

def test_server_create_with_a_port_is_a_clear_409(world, member_client, image, monkeypatch):
    from cloudproj.celery import app

    monkeypatch.setattr(app, "send_task", lambda *a, **kw: None)
    body = {"server": {"name": "p", "imageRef": str(image.id), "flavorRef": "1",
                       "networks": [{"port": str(world["ports"]["vm"].port_id)}]}}
    response = member_client.post("/compute/v2.1/servers", body, format="json")
    assert response.status_code == 409, response.content
    assert "in use" in response.json()["conflictingRequest"]["message"]
    body["server"]["networks"] = [{"port": str(uuid.uuid4())}]
    response = member_client.post("/compute/v2.1/servers", body, format="json")
    assert response.status_code == 400 and "could not be found" in response.json()["badRequest"]["message"]
    body["server"]["networks"] = [{"uuid": str(world["own"].uuid)}]
    assert member_client.post("/compute/v2.1/servers", body, format="json").status_code == 202


def test_no_token_is_401_everywhere(anon_client):
    for url in ("networks", "subnets", "ports", "quotas/x", "extensions"):
        error(anon_client.get(f"{V2}/{url}"), 401, "HTTPUnauthorized")
    error(TokenClient("bad").post(f"{V2}/networks", {}, format="json"), 401)
