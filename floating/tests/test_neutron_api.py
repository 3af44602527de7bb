"""/network/v2.0/floatingips as clients see it: bodies (neutron-lib's attributes), create from an
external network (a pool), association by port through POST and PUT, moves, disassociation,
release, filters, fields and paging, status from the NAT host's report, and every error in
Neutron's envelope with its type."""
import re
import uuid

import pytest

from cloudproj.testing.floating import HOST, boot_placed, synced
from floating.models import FloatingIP
from floating.services import pools
from floating.services.host import _record_applied
from floating.linux import nat
from identity.services import quotas
from network.models import FixedIP

pytestmark = pytest.mark.django_db

FIPS = "/network/v2.0/floatingips"
PUBLIC = pools.pool_network_id("public")
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def neutron_error(response, status: int, error_type: str | None = None) -> str:
    assert response.status_code == status, response.content
    body = response.json()["NeutronError"]
    assert set(body) == {"type", "message", "detail"}
    if error_type is not None:
        assert body["type"] == error_type, body
    return body["message"]


def create(client, status=201, **fields):
    fields.setdefault("floating_network_id", PUBLIC)
    response = client.post(FIPS, {"floatingip": fields}, format="json")
    assert response.status_code == status, response.content
    return response.json()["floatingip"] if status == 201 else response


def port_of(vm) -> str:
    return str(FixedIP.objects.get(instance_uuid=vm.uuid).port_id)


def test_create_show_list_delete(pool, netadmin_client, netadmin_account, member_client):
    fip = create(netadmin_client, description="web")
    project = str(netadmin_account[1].id)
    assert fip == {
        "id": fip["id"], "floating_ip_address": "198.51.100.1", "floating_network_id": PUBLIC, "router_id": None,
        "port_id": None, "fixed_ip_address": None, "status": "DOWN", "project_id": project, "tenant_id": project,
        "description": "web", "tags": [], "created_at": fip["created_at"], "updated_at": fip["updated_at"],
        "revision_number": fip["revision_number"],
    }
    assert TS.match(fip["created_at"]) and TS.match(fip["updated_at"])
    assert uuid.UUID(fip["id"]) == FloatingIP.objects.get(address="198.51.100.1").uuid
    # the project's readers see it, with or without a trailing slash / .json
    assert member_client.get(FIPS).json() == {"floatingips": [fip]}
    for suffix in ("", "/", ".json"):
        assert member_client.get(f"{FIPS}/{fip['id']}{suffix}").json() == {"floatingip": fip}
    assert member_client.get(f"{FIPS}/{fip['id']}?fields=id&fields=status").json() == {
        "floatingip": {"id": fip["id"], "status": "DOWN"}}
    assert netadmin_client.delete(f"{FIPS}/{fip['id']}").status_code == 204
    assert member_client.get(FIPS).json() == {"floatingips": []}
    neutron_error(member_client.get(f"{FIPS}/{fip['id']}"), 404, "FloatingIPNotFound")
    neutron_error(netadmin_client.delete(f"{FIPS}/{fip['id']}"), 404, "FloatingIPNotFound")
    assert FloatingIP.objects.get(address="198.51.100.1").project_id is None
    assert quotas.get_usages(netadmin_account[1])["floating_ips"]["in_use"] == 0


def test_external_net_is_announced_and_the_resource_listed(netadmin_client):
    aliases = {e["alias"] for e in netadmin_client.get("/network/v2.0/extensions").json()["extensions"]}
    assert "external-net" in aliases and "floating-ip-port-forwarding" not in aliases
    resources = netadmin_client.get("/network/v2.0/").json()["resources"]
    assert any((r["name"], r["collection"]) == ("floatingip", "floatingips") for r in resources)


def test_associate_at_create_move_and_disassociate(pool, netadmin_client, member_client, image, fixed_network,
                                                   django_capture_on_commit_callbacks, sent):
    vm1 = boot_placed(member_client, image, fixed_network, name="vm1")
    vm2 = boot_placed(member_client, image, fixed_network, name="vm2")
    port1, port2 = port_of(vm1), port_of(vm2)
    fixed1 = FixedIP.objects.get(instance_uuid=vm1.uuid).address
    fixed2 = FixedIP.objects.get(instance_uuid=vm2.uuid).address
    with django_capture_on_commit_callbacks(execute=True):
        fip = create(netadmin_client, port_id=port1)
    assert (fip["port_id"], fip["fixed_ip_address"], fip["status"]) == (port1, fixed1, "DOWN")
    assert synced(sent) == [HOST]
    rev = fip["revision_number"]
    # the server shows it; a second floating IP for the same port is refused
    addresses = member_client.get(f"/compute/v2.1/servers/{vm1.uuid}").json()["server"]["addresses"]["fipnet"]
    assert [a["addr"] for a in addresses] == [fixed1, fip["floating_ip_address"]]
    neutron_error(create(netadmin_client, status=409, port_id=port1), 409, "FloatingIPPortAlreadyAssociated")
    assert FloatingIP.objects.filter(project__isnull=False).count() == 1  # nothing left allocated
    # the NAT host reports it applied: ACTIVE
    _record_applied(HOST, [nat.Mapping(fip["floating_ip_address"], fixed1, "cptfipx0")])
    assert member_client.get(f"{FIPS}/{fip['id']}").json()["floatingip"]["status"] == "ACTIVE"
    # PUT to another port moves it
    with django_capture_on_commit_callbacks(execute=True):
        moved = netadmin_client.put(f"{FIPS}/{fip['id']}", {"floatingip": {"port_id": port2}}, format="json")
    assert moved.status_code == 200, moved.content
    moved = moved.json()["floatingip"]
    assert (moved["port_id"], moved["fixed_ip_address"], moved["status"]) == (port2, fixed2, "DOWN")
    assert moved["revision_number"] > rev
    assert synced(sent) == [HOST]
    # filters
    assert [f["id"] for f in member_client.get(f"{FIPS}?port_id={port2}").json()["floatingips"]] == [fip["id"]]
    assert member_client.get(f"{FIPS}?port_id={port1}").json()["floatingips"] == []
    assert len(member_client.get(f"{FIPS}?fixed_ip_address={fixed2}").json()["floatingips"]) == 1
    # PUT port_id null disassociates; description alone keeps the association
    with django_capture_on_commit_callbacks(execute=True):
        gone = netadmin_client.put(f"{FIPS}/{fip['id']}", {"floatingip": {"port_id": None}}, format="json")
    assert gone.status_code == 200
    assert (gone.json()["floatingip"]["port_id"], gone.json()["floatingip"]["fixed_ip_address"]) == (None, None)
    assert synced(sent) == [HOST]
    row = FloatingIP.objects.get(uuid=fip["id"])
    assert (row.instance_uuid, row.fixed_ip_id, row.host, row.nat_applied) == (None, None, None, False)
    described = netadmin_client.put(f"{FIPS}/{fip['id']}", {"floatingip": {"description": "x"}}, format="json")
    assert described.json()["floatingip"]["description"] == "x"
    # DELETE while associated disassociates first
    netadmin_client.put(f"{FIPS}/{fip['id']}", {"floatingip": {"port_id": port1}}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        assert netadmin_client.delete(f"{FIPS}/{fip['id']}").status_code == 204
    assert synced(sent) == [HOST]
    assert FloatingIP.objects.filter(project__isnull=False).count() == 0


def test_fixed_ip_address_must_be_the_ports(pool, netadmin_client, member_client, image, fixed_network):
    vm = boot_placed(member_client, image, fixed_network)
    fixed = FixedIP.objects.get(instance_uuid=vm.uuid).address
    neutron_error(create(netadmin_client, status=400, port_id=port_of(vm), fixed_ip_address="10.239.0.250"), 400,
                  "BadRequest")
    assert FloatingIP.objects.filter(project__isnull=False).count() == 0
    fip = create(netadmin_client, port_id=port_of(vm), fixed_ip_address=fixed)
    assert fip["fixed_ip_address"] == fixed


def test_filters_fields_and_paging(pool, admin_client, netadmin_client):
    ours = [create(netadmin_client) for _ in range(3)]
    theirs = create(admin_client)
    listed = admin_client.get(FIPS).json()["floatingips"]  # an admin sees every project's
    assert [f["id"] for f in listed] == [f["id"] for f in ours] + [theirs["id"]]
    assert [f["id"] for f in netadmin_client.get(FIPS).json()["floatingips"]] == [f["id"] for f in ours]
    for key in ("floating_ip_address", "id", "status", "floating_network_id", "project_id", "tenant_id"):
        got = netadmin_client.get(FIPS, {key: ours[1][key]}).json()["floatingips"]
        assert ours[1]["id"] in [f["id"] for f in got], key
    assert netadmin_client.get(FIPS, {"floating_ip_address": "203.0.113.99"}).json()["floatingips"] == []
    assert netadmin_client.get(FIPS, {"status": "ACTIVE"}).json()["floatingips"] == []
    assert netadmin_client.get(FIPS, {"floating_network_id": str(uuid.uuid4())}).json()["floatingips"] == []
    page = netadmin_client.get(FIPS, {"limit": 2}).json()
    assert [f["id"] for f in page["floatingips"]] == [f["id"] for f in ours[:2]]
    assert page["floatingips_links"][0]["rel"] == "next"
    rest = netadmin_client.get(FIPS, {"limit": 2, "marker": ours[1]["id"]}).json()["floatingips"]
    assert [f["id"] for f in rest] == [ours[2]["id"]]
    only = netadmin_client.get(FIPS, {"fields": ["id", "floating_ip_address"]}).json()["floatingips"]
    assert only[0] == {"id": ours[0]["id"], "floating_ip_address": ours[0]["floating_ip_address"]}
    neutron_error(netadmin_client.get(FIPS, {"bogus": "1"}), 400)


def test_admins_choose_the_address_members_may_not(pool, admin_client, netadmin_client):
    fip = create(admin_client, floating_ip_address="198.51.100.5")
    assert fip["floating_ip_address"] == "198.51.100.5"
    neutron_error(create(admin_client, status=409, floating_ip_address="198.51.100.5"), 409,
                  "IpAddressAlreadyAllocated")
    neutron_error(create(admin_client, status=400, floating_ip_address="198.51.100.77"), 400, "InvalidIpForNetwork")
    neutron_error(create(admin_client, status=400, floating_ip_address="not-an-ip"), 400)
    neutron_error(create(netadmin_client, status=403, floating_ip_address="198.51.100.6"), 403)
    assert FloatingIP.objects.filter(project__isnull=False).count() == 1


def test_errors(pool, netadmin_client, member_client, other_netadmin_client, image, fixed_network,
                netadmin_account):
    neutron_error(create(netadmin_client, status=404, floating_network_id=str(uuid.uuid4())), 404, "NetworkNotFound")
    neutron_error(create(netadmin_client, status=400, floating_network_id=str(fixed_network.uuid)), 400, "BadRequest")
    neutron_error(create(netadmin_client, status=400, floating_network_id="nope"), 400)
    neutron_error(netadmin_client.post(FIPS, {"floatingip": {}}, format="json"), 400)
    neutron_error(netadmin_client.post(FIPS, {"floatingip": {"floating_network_id": PUBLIC, "bogus": 1}},
                                       format="json"), 400)
    neutron_error(netadmin_client.post(FIPS, "not json", content_type="application/json"), 400)
    neutron_error(create(netadmin_client, status=404, port_id=str(uuid.uuid4())), 404, "PortNotFound")
    neutron_error(create(netadmin_client, status=400, description=5), 400)
    # another project's port is not found, and nothing is left allocated
    theirs = boot_placed(other_netadmin_client, image, fixed_network, name="theirs")
    neutron_error(create(netadmin_client, status=404, port_id=port_of(theirs)), 404, "PortNotFound")
    assert FloatingIP.objects.filter(project__isnull=False).count() == 0
    # a plain member may look, not allocate (the seeds' netadmin rule)
    neutron_error(create(member_client, status=403), 403, "PolicyNotAuthorized")
    # another project's floating IP is not found
    fip = create(netadmin_client)
    for method in ("get", "delete"):
        neutron_error(getattr(other_netadmin_client, method)(f"{FIPS}/{fip['id']}"), 404, "FloatingIPNotFound")
    neutron_error(other_netadmin_client.put(f"{FIPS}/{fip['id']}", {"floatingip": {"port_id": None}},
                                            format="json"), 404)
    neutron_error(netadmin_client.put(f"{FIPS}/{fip['id']}", {"floatingip": {"port_id": port_of(theirs)}},
                                      format="json"), 404, "PortNotFound")
    neutron_error(netadmin_client.put(f"{FIPS}/{fip['id']}", {"floatingip": {"floating_ip_address": "1.2.3.4"}},
                                      format="json"), 400)
    # over quota: 409 OverQuota; an empty pool: 409 ExternalIpAddressExhausted
    quotas.set_quota(netadmin_account[1], "floating_ips", 1)
    neutron_error(create(netadmin_client, status=409), 409, "OverQuota")
    quotas.set_quota(netadmin_account[1], "floating_ips", 10)
    for _ in range(5):  # a /29: six addresses
        create(netadmin_client)
    neutron_error(create(netadmin_client, status=409), 409, "ExternalIpAddressExhausted")
    assert quotas.get_usages(netadmin_account[1])["floating_ips"] == {"in_use": 6, "reserved": 0}
    # no token
    from cloudproj.testing.clients import TokenClient
    neutron_error(TokenClient(None).get(FIPS), 401)
