"""Terraform's OpenStack provider, replayed: the HTTP requests terraform-provider-openstack 3.4.0
(gophercloud v2.13.0) sends for `openstack_networking_secgroup_v2`, `_secgroup_rule_v2`,
`_floatingip_v2`, `_floatingip_associate_v2` and `openstack_compute_instance_v2` (with a
network *name*), in the order a create -> refresh -> update -> destroy run sends them, against
the live API, asserting what each Read function puts into the state.

Where the calls come from (provider at 27f2612, gophercloud at 95eea8e):
- openstack/resource_openstack_networking_secgroup_v2.go: groups.Create {name, description,
  stateful?}; with `delete_default_rules` a GET of the group and a DELETE of each of its rules;
  Read = groups.Get (name, description, tenant_id, stateful); Update = groups.Update (PUT name /
  description); Delete = networkingSecgroupV2StateRefreshFuncDelete (networking_secgroup_v2.go):
  DELETE, then GET until 404.
- openstack/resource_openstack_networking_secgroup_rule_v2.go: rules.Create (direction,
  ethertype, security_group_id, port_range_min/max, protocol, remote_ip_prefix; empty strings
  omitted); Read = rules.Get; Delete = DELETE then GET until 404
  (networking_secgroup_rule_v2.go).
- openstack/resource_openstack_networking_floatingip_v2.go: networkingNetworkV2ID
  (networking_network_v2.go) = GET /v2.0/networks?name=<pool>; floatingips.Create
  {floating_network_id}; the state wait GETs until ACTIVE or DOWN; Read = GET the floating IP and
  networkingNetworkV2Name = GET /v2.0/networks?id=<floating_network_id>; Update = PUT
  {description}; Delete = DELETE then GET until 404.
- openstack/resource_openstack_networking_floatingip_associate_v2.go: networkingFloatingIPV2ID
  (networking_floatingip_v2.go) = GET /v2.0/floatingips?floating_ip_address=<ip>; PUT {port_id}
  (fixed_ip empty is omitted); Read = GET; Delete = PUT {port_id: ""} which gophercloud's
  floatingips.UpdateOpts.ToFloatingIPUpdateMap turns into `"port_id": null`.
- openstack/resource_openstack_compute_instance_v2.go and compute_instance_v2.go (the networking
  helpers; there is no compute_instance_v2_networking.go in 3.x): getInstanceNetworkInfoNeutron
  = GET /v2.0/networks?name=<name>&status=ACTIVE (Go sorts query keys); servers.Create with
  `networks: [{"uuid": ...}]` and `security_groups: [{"name": ...}]`; the state wait GETs the
  server until ACTIVE; Read = GET server, flattenInstanceNetworks = GET server again and the
  network lookup by the `addresses` key (its name), flavors.Get, images.Get (image API v2), and
  tags.List at microversion 2.26 (`OpenStack-API-Version: compute 2.26`, its error only
  logged); Update of the name = PUT /servers/{id} {server: {name}}; Delete = DELETE, then GET
  until 404 (ServerV2StateRefreshFunc maps 404 to DELETED).
- The port behind the association is found the way a configuration finds it, with the
  `openstack_networking_port_v2` data source (data_source_openstack_networking_port_v2.go):
  GET /v2.0/ports?device_id=<server>&network_id=<network>.

No guest runs here: the server is moved to ACTIVE with its fixed IP the way the boot pipeline
leaves it (cloudproj.testing.floating.boot_placed does the same), and the NAT host's report is
not awaited (a fresh floating IP is DOWN, which the provider's wait accepts). Nothing is mocked.
"""
import pytest

from cloudproj.testing.clients import TokenClient
from cloudproj.testing.floating import HOST
from cloudproj.testing.servers import API
from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from floating.services import ranges
from network.services import fixed_ips, networks

pytestmark = pytest.mark.django_db

NET = "/network/v2.0"
JSON = {"format": "json"}


@pytest.fixture(autouse=True)
def networks_path(settings, tmp_path, paths):
    settings.NETWORKS_PATH = tmp_path / "networks"


@pytest.fixture
def fixed_network(db):
    return networks.create_network("tfnet", "10.239.7.0/24", bridge="cpttfu0", bridge_interface="")


@pytest.fixture
def pool(db):
    return ranges.create_range("198.51.100.0/29", pool="public", interface="cpttfx0")


@pytest.fixture
def tf(make_account, member_account):
    """The provider's client: a project user with the netadmin role (allowed to allocate)."""
    return TokenClient(make_account("demo", "netadmin", username="demo-netadmin")[2])


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:800])
    return response.json() if response.content else None


def gone(response):
    """What CheckDeleted / the state-refresh functions wait for after a delete: a 404."""
    assert response.status_code == 404, (response.status_code, response.content[:800])


def test_secgroup_and_rule_lifecycle(tf):
    # openstack_networking_secgroup_v2 {name, description, delete_default_rules = true}
    sg = ok(tf.post(f"{NET}/security-groups", {"security_group": {"name": "tf-web", "description": "web tier"}},
                    **JSON), 201)["security_group"]
    sg_id = sg["id"]
    defaults = ok(tf.get(f"{NET}/security-groups/{sg_id}"))["security_group"]["security_group_rules"]
    # Neutron adds egress IPv4 and IPv6; this cloud has no IPv6 (secgroups/services/groups.py)
    assert [(r["direction"], r["ethertype"]) for r in defaults] == [("egress", "IPv4")]
    for rule in defaults:
        assert tf.delete(f"{NET}/security-group-rules/{rule['id']}").status_code == 204
    # Read (refresh)
    got = ok(tf.get(f"{NET}/security-groups/{sg_id}"))["security_group"]
    assert (got["name"], got["description"], got["security_group_rules"]) == ("tf-web", "web tier", [])
    assert got["tenant_id"] == sg["tenant_id"] and isinstance(got["stateful"], bool)

    # openstack_networking_secgroup_rule_v2: ssh from anywhere
    body = {"security_group_rule": {"direction": "ingress", "ethertype": "IPv4", "security_group_id": sg_id,
                                    "port_range_max": 22, "port_range_min": 22, "protocol": "tcp",
                                    "remote_ip_prefix": "0.0.0.0/0"}}
    rule = ok(tf.post(f"{NET}/security-group-rules", body, **JSON), 201)["security_group_rule"]
    read = ok(tf.get(f"{NET}/security-group-rules/{rule['id']}"))["security_group_rule"]
    assert {k: read[k] for k in ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
                                 "remote_ip_prefix", "remote_group_id", "security_group_id")} == {
        "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22,
        "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": None,
        "security_group_id": sg_id}
    assert "description" in read and read["tenant_id"] == sg["tenant_id"]
    # a rule with an empty protocol (omitted) and a remote group, as `remote_group_id = self`
    anyproto = ok(tf.post(f"{NET}/security-group-rules", {"security_group_rule": {
        "direction": "ingress", "ethertype": "IPv4", "security_group_id": sg_id, "remote_group_id": sg_id}},
        **JSON), 201)["security_group_rule"]
    assert (anyproto["protocol"], anyproto["port_range_min"], anyproto["remote_group_id"]) == (None, None, sg_id)
    # the group's refresh now lists both
    listed = ok(tf.get(f"{NET}/security-groups/{sg_id}"))["security_group"]["security_group_rules"]
    assert sorted(r["id"] for r in listed) == sorted([rule["id"], anyproto["id"]])

    # Update of the group: PUT name + description
    put = ok(tf.put(f"{NET}/security-groups/{sg_id}", {"security_group": {"name": "tf-web2", "description": ""}},
                    **JSON))["security_group"]
    assert (put["name"], put["description"]) == ("tf-web2", "")
    assert ok(tf.get(f"{NET}/security-groups/{sg_id}"))["security_group"]["name"] == "tf-web2"

    # destroy: the rules, then the group (DELETE then GET until 404)
    for r in (rule, anyproto):
        assert tf.delete(f"{NET}/security-group-rules/{r['id']}").status_code == 204
        gone(tf.get(f"{NET}/security-group-rules/{r['id']}"))
    assert tf.delete(f"{NET}/security-groups/{sg_id}").status_code == 204
    gone(tf.get(f"{NET}/security-groups/{sg_id}"))
    # a second destroy (state out of date) is a 404, which CheckDeleted treats as gone
    gone(tf.delete(f"{NET}/security-groups/{sg_id}"))


def test_stateful_is_sent_and_read_back(tf):
    sg = ok(tf.post(f"{NET}/security-groups", {"security_group": {"name": "tf-sl", "stateful": True}}, **JSON),
            201)["security_group"]
    assert ok(tf.get(f"{NET}/security-groups/{sg['id']}"))["security_group"]["stateful"] is True
    # Update of `stateful` alone (groups.UpdateOpts{Stateful: &false}): this cloud has only stateful
    # groups, so `terraform apply` fails with Neutron's 400 and the group stays as it was
    put = tf.put(f"{NET}/security-groups/{sg['id']}", {"security_group": {"stateful": False}}, **JSON)
    assert put.status_code == 400 and put.json()["NeutronError"]["message"]
    assert ok(tf.get(f"{NET}/security-groups/{sg['id']}"))["security_group"]["stateful"] is True
    put = tf.put(f"{NET}/security-groups/{sg['id']}", {"security_group": {"stateful": True}}, **JSON)
    assert ok(put)["security_group"]["stateful"] is True


def test_instance_floatingip_and_association_lifecycle(tf, pool, fixed_network, image):
    # --- openstack_compute_instance_v2 {network { name = "tfnet" }, security_groups = ["default"]}
    found = ok(tf.get(f"{NET}/networks?name=tfnet&status=ACTIVE"))["networks"]
    assert [n["name"] for n in found] == ["tfnet"]
    net_id = found[0]["id"]
    body = {"server": {"flavorRef": "1", "imageRef": str(image.id), "name": "tf-vm",
                       "networks": [{"uuid": net_id}], "security_groups": [{"name": "default"}]}}
    created = ok(tf.post(f"{API}/servers", body, **JSON), 202)["server"]
    server_id = created["id"]
    assert ok(tf.get(f"{API}/servers/{server_id}"))["server"]["status"] == "BUILD"
    # the boot pipeline (no guest here): a fixed IP on the requested network, ACTIVE on a host
    row = Instance.all_objects.get(uuid=server_id)
    fixed = fixed_ips.allocate_fixed_ip(fixed_network, row.uuid, host=HOST, hostname="tf-vm").address
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1, host=HOST)
    # the state wait's GET, then Read: GET server (twice), the network by its addresses key, flavor, image, tags
    for _ in range(2):
        server = ok(tf.get(f"{API}/servers/{server_id}"))["server"]
        assert server["status"] == "ACTIVE" and server["name"] == "tf-vm"
    # getInstanceAddresses: keyed by network name; `version` must be a number (a Go type assertion
    # panics otherwise), the fixed entry typed "fixed", the NIC keyed by its MAC
    (nic,) = server["addresses"]["tfnet"]
    assert (nic["addr"], nic["version"], nic["OS-EXT-IPS:type"]) == (fixed, 4, "fixed")
    mac = nic["OS-EXT-IPS-MAC:mac_addr"]
    assert server["flavor"]["id"] == "1" and server["image"]["id"] == str(image.id)
    assert [g["name"] for g in server["security_groups"]] == ["default"]
    assert ok(tf.get(f"{NET}/networks?name=tfnet&status=ACTIVE"))["networks"][0]["id"] == net_id
    assert ok(tf.get(f"{API}/flavors/1"))["flavor"]["name"]
    assert ok(tf.get(f"/image/v2/images/{image.id}"))["id"] == str(image.id)
    tags = tf.get(f"{API}/servers/{server_id}/tags", HTTP_OPENSTACK_API_VERSION="compute 2.26",
                  HTTP_X_OPENSTACK_NOVA_API_VERSION="2.26")
    # the server tags API (2.26): the provider keeps the (empty) list in its state
    assert tags.status_code == 200 and tags.json() == {"tags": []}

    # Update of `name`: servers.Update, then the refresh
    renamed = ok(tf.put(f"{API}/servers/{server_id}", {"server": {"name": "tf-vm2"}}, **JSON))["server"]
    assert renamed["name"] == "tf-vm2"
    assert ok(tf.get(f"{API}/servers/{server_id}"))["server"]["name"] == "tf-vm2"

    # --- data "openstack_networking_port_v2" {device_id, network_id}
    ports = ok(tf.get(f"{NET}/ports?device_id={server_id}&network_id={net_id}"))["ports"]
    assert len(ports) == 1 and ports[0]["fixed_ips"][0]["ip_address"] == fixed
    assert (ports[0]["mac_address"], ports[0]["network_id"], ports[0]["device_id"]) == (mac, net_id, server_id)
    port_id = ports[0]["id"]

    # --- openstack_networking_floatingip_v2 {pool = "public", description}
    public = ok(tf.get(f"{NET}/networks?name=public"))["networks"]
    assert [n["name"] for n in public] == ["public"] and public[0]["router:external"] is True
    pool_id = public[0]["id"]
    fip = ok(tf.post(f"{NET}/floatingips", {"floatingip": {"description": "tf", "floating_network_id": pool_id}},
                     **JSON), 201)["floatingip"]
    fip_id, address = fip["id"], fip["floating_ip_address"]
    waited = ok(tf.get(f"{NET}/floatingips/{fip_id}"))["floatingip"]
    assert waited["status"] in ("ACTIVE", "DOWN")
    read = ok(tf.get(f"{NET}/floatingips/{fip_id}"))["floatingip"]
    assert (read["floating_ip_address"], read["port_id"], read["fixed_ip_address"], read["description"]) == (
        address, None, None, "tf")
    assert read["floating_network_id"] == pool_id and read["tenant_id"]
    assert [n["name"] for n in ok(tf.get(f"{NET}/networks?id={pool_id}"))["networks"]] == ["public"]
    upd = ok(tf.put(f"{NET}/floatingips/{fip_id}", {"floatingip": {"description": "tf2"}}, **JSON))["floatingip"]
    assert upd["description"] == "tf2"

    # --- openstack_networking_floatingip_associate_v2 {floating_ip = address, port_id}
    by_addr = ok(tf.get(f"{NET}/floatingips?floating_ip_address={address}"))["floatingips"]
    assert [f["id"] for f in by_addr] == [fip_id]
    ok(tf.put(f"{NET}/floatingips/{fip_id}", {"floatingip": {"port_id": port_id}}, **JSON))
    assoc = ok(tf.get(f"{NET}/floatingips/{fip_id}"))["floatingip"]
    assert (assoc["floating_ip_address"], assoc["port_id"], assoc["fixed_ip_address"]) == (address, port_id, fixed)
    assert assoc["status"] in ("ACTIVE", "DOWN")
    # the instance's next refresh shows the floating address under the network name
    addrs = ok(tf.get(f"{API}/servers/{server_id}"))["server"]["addresses"]["tfnet"]
    assert [(a["addr"], a["OS-EXT-IPS:type"], a["version"]) for a in addrs] == [(fixed, "fixed", 4),
                                                                                (address, "floating", 4)]

    # openstack_networking_floatingip_v2's own `port_id` + `fixed_ip` (Update: PUT both), read back
    both = {"floatingip": {"port_id": port_id, "fixed_ip_address": fixed}}
    assert ok(tf.put(f"{NET}/floatingips/{fip_id}", both, **JSON))["floatingip"]["fixed_ip_address"] == fixed
    assert ok(tf.get(f"{NET}/floatingips/{fip_id}"))["floatingip"]["port_id"] == port_id

    # --- destroy, in dependency order: association (PUT port_id null), floating IP, instance
    dis = ok(tf.put(f"{NET}/floatingips/{fip_id}", {"floatingip": {"port_id": None}}, **JSON))["floatingip"]
    assert (dis["port_id"], dis["fixed_ip_address"]) == (None, None)
    assert tf.delete(f"{NET}/floatingips/{fip_id}").status_code == 204
    gone(tf.get(f"{NET}/floatingips/{fip_id}"))
    assert tf.delete(f"{API}/servers/{server_id}").status_code == 204
    gone(tf.get(f"{API}/servers/{server_id}"))  # the host is not up: released here
    assert ok(tf.get(f"{NET}/ports?device_id={server_id}&network_id={net_id}"))["ports"] == []
