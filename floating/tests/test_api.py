"""/compute/v2.1/os-floating-ip-pools, /os-floating-ips and the addFloatingIp /
removeFloatingIp server actions as clients see them: bodies, addresses, policy, quota,
isolation between projects, bad input, and what the NAT host is asked to do."""
import pytest

from cloudproj.testing.floating import HOST, boot_placed, synced
from cloudproj.testing.servers import API, act, error
from compute.models import Instance
from floating.models import FloatingIP
from identity.services import quotas
from network.models import FixedIP

pytestmark = pytest.mark.django_db

FIPS = f"{API}/os-floating-ips"


def allocate(client, pool="public", status=200):
    response = client.post(FIPS, {"pool": pool} if pool is not None else None, format="json")
    assert response.status_code == status, response.content
    return response.json().get("floating_ip") if status == 200 else response


def test_pools_and_allocate_show_list_release(pool, netadmin_client, member_client):
    body = member_client.get(f"{API}/os-floating-ip-pools").json()
    assert body == {"floating_ip_pools": [{"name": "public"}]}
    fip = allocate(netadmin_client)
    assert set(fip) == {"id", "ip", "pool", "fixed_ip", "instance_id"}
    assert (fip["ip"], fip["pool"], fip["fixed_ip"], fip["instance_id"]) == ("198.51.100.1", "public", None, None)
    # the project's readers see it, by id or address, with or without a trailing slash
    assert member_client.get(FIPS).json() == {"floating_ips": [fip]}
    assert member_client.get(f"{FIPS}/{fip['id']}/").json() == {"floating_ip": fip}
    assert member_client.get(f"{FIPS}/{fip['ip']}").json()["floating_ip"]["id"] == fip["id"]
    second = allocate(netadmin_client, pool=None, status=404)  # no pool: DEFAULT_FLOATING_POOL ("nova")
    assert "Floating IP pool nova not found" in error(second, 404)
    assert netadmin_client.delete(f"{FIPS}/{fip['id']}").status_code == 202
    assert member_client.get(FIPS).json() == {"floating_ips": []}
    error(member_client.get(f"{FIPS}/{fip['id']}"), 404)
    row = FloatingIP.objects.get(address="198.51.100.1")
    assert (row.project_id, row.allocated_at) == (None, None)


def test_default_pool_setting(pool, netadmin_client, settings):
    settings.DEFAULT_FLOATING_POOL = "public"
    assert allocate(netadmin_client, pool=None)["pool"] == "public"
    assert netadmin_client.post(FIPS, {}, format="json").json()["floating_ip"]["pool"] == "public"


def test_members_may_look_but_only_netadmins_and_admins_allocate(pool, member_client, admin_client, netadmin_client,
                                                                 settings):
    assert "compute:floating_ips:create" in error(allocate(member_client, status=403), 403)
    fip = allocate(netadmin_client)
    error(member_client.delete(f"{FIPS}/{fip['id']}"), 403)
    assert allocate(admin_client)["ip"] == "198.51.100.2"
    # configurable: let every member of a project do it
    settings.POLICY_OVERRIDES = {"compute:floating_ips:create": "admin_or_owner"}
    assert allocate(member_client)["ip"] == "198.51.100.3"


def test_quota_is_enforced_and_given_back(pool, netadmin_client, netadmin_account):
    project = netadmin_account[1]
    quotas.set_quota(project, "floating_ips", 2)
    first, _second = allocate(netadmin_client), allocate(netadmin_client)
    message = error(allocate(netadmin_client, status=403), 403)
    assert "Maximum number of floating IPs exceeded" in message
    assert quotas.get_usages(project)["floating_ips"] == {"in_use": 2, "reserved": 0}
    assert netadmin_client.delete(f"{FIPS}/{first['id']}").status_code == 202
    assert quotas.get_usages(project)["floating_ips"]["in_use"] == 1
    again = allocate(netadmin_client)
    assert again["ip"] == first["ip"] and again["id"] != first["id"]  # an id names one allocation
    limits = netadmin_client.get(f"{API}/limits").json()["limits"]["absolute"]
    assert (limits["maxTotalFloatingIps"], limits["totalFloatingIpsUsed"]) == (2, 2)


def test_an_empty_pool_is_a_404_and_nothing_is_reserved(pool, netadmin_client, netadmin_account):
    for _ in range(6):  # a /29: six host addresses
        allocate(netadmin_client)
    assert "No more floating IPs in pool public" in error(allocate(netadmin_client, status=404), 404)
    assert quotas.get_usages(netadmin_account[1])["floating_ips"] == {"in_use": 6, "reserved": 0}


def test_bad_input_is_a_400(pool, netadmin_client):
    for body in ({"pool": 5}, {"pool": ""}, ["public"]):
        error(netadmin_client.post(FIPS, body, format="json"), 400)
    error(netadmin_client.post(FIPS, "not json", content_type="application/json"), 400)
    for key in ("nope", "300.1.1.1", "00000000-0000-0000-0000-000000000000"):
        error(netadmin_client.get(f"{FIPS}/{key}"), 404)
        error(netadmin_client.delete(f"{FIPS}/{key}"), 404)


def test_other_projects_floating_ips_are_not_found(pool, netadmin_client, other_netadmin_client, admin_client,
                                                   image, fixed_network, member_client):
    fip = allocate(netadmin_client)
    assert other_netadmin_client.get(FIPS).json() == {"floating_ips": []}
    for method in ("get", "delete"):
        error(getattr(other_netadmin_client, method)(f"{FIPS}/{fip['id']}"), 404)
        error(getattr(other_netadmin_client, method)(f"{FIPS}/{fip['ip']}"), 404)
    theirs = boot_placed(other_netadmin_client, image, fixed_network, name="theirs")
    error(act(other_netadmin_client, theirs.uuid, {"addFloatingIp": {"address": fip["ip"]}}), 404)
    ours = boot_placed(member_client, image, fixed_network, name="ours")
    error(act(other_netadmin_client, ours.uuid, {"addFloatingIp": {"address": fip["ip"]}}), 404)
    # an admin sees any address; admins list their own project's (as Nova)
    assert admin_client.get(f"{FIPS}/{fip['id']}").json()["floating_ip"]["ip"] == fip["ip"]
    assert admin_client.get(FIPS).json() == {"floating_ips": []}
    # ... but an address is only associated with a server of its own project
    error(act(admin_client, theirs.uuid, {"addFloatingIp": {"address": fip["ip"]}}), 400)


def test_associate_shows_in_addresses_and_asks_the_nat_host(pool, netadmin_client, member_client, image,
                                                            fixed_network, django_capture_on_commit_callbacks, sent):
    vm = boot_placed(member_client, image, fixed_network)
    fixed = FixedIP.objects.get(instance_uuid=vm.uuid)
    fip = allocate(netadmin_client)
    with django_capture_on_commit_callbacks(execute=True):
        assert act(netadmin_client, vm.uuid, {"addFloatingIp": {"address": fip["ip"]}}).status_code == 202
    assert synced(sent) == [HOST]
    row = FloatingIP.objects.get(address=fip["ip"])
    assert (row.fixed_ip_id, row.instance_uuid, row.host) == (fixed.pk, vm.uuid, HOST)
    shown = member_client.get(f"{FIPS}/{fip['id']}").json()["floating_ip"]
    assert (shown["fixed_ip"], shown["instance_id"]) == (fixed.address, str(vm.uuid))
    expected = [
        {"version": 4, "addr": fixed.address, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": fixed.mac_address},
        {"version": 4, "addr": fip["ip"], "OS-EXT-IPS:type": "floating",
         "OS-EXT-IPS-MAC:mac_addr": fixed.mac_address},
    ]
    server = member_client.get(f"{API}/servers/{vm.uuid}").json()["server"]
    assert server["addresses"] == {"fipnet": expected}
    detail = member_client.get(f"{API}/servers/detail").json()["servers"]
    assert detail[0]["addresses"] == {"fipnet": expected}
    assert member_client.get(f"{API}/servers/{vm.uuid}/ips").json() == {"addresses": {"fipnet": expected}}
    # again: nothing changes, the host is asked to make sure
    assert act(netadmin_client, vm.uuid, {"addFloatingIp": {"address": fip["ip"], "fixed_address": fixed.address}}
               ).status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        assert act(netadmin_client, vm.uuid, {"removeFloatingIp": {"address": fip["ip"]}}).status_code == 202
    assert synced(sent) == [HOST]
    row.refresh_from_db()
    assert (row.fixed_ip_id, row.instance_uuid, row.host, row.project_id) == (None, None, None, vm.project_id)
    assert member_client.get(f"{API}/servers/{vm.uuid}").json()["server"]["addresses"] == {"fipnet": expected[:1]}


def test_an_associated_address_moves_and_both_hosts_are_told(pool, netadmin_client, member_client, image,
                                                             fixed_network, django_capture_on_commit_callbacks, sent):
    first = boot_placed(member_client, image, fixed_network, name="one", host="fip-a")
    second = boot_placed(member_client, image, fixed_network, name="two", host="fip-b")
    fip = allocate(netadmin_client)
    act(netadmin_client, first.uuid, {"addFloatingIp": {"address": fip["ip"]}})
    with django_capture_on_commit_callbacks(execute=True):
        assert act(netadmin_client, second.uuid, {"addFloatingIp": {"address": fip["ip"]}}).status_code == 202
    assert sorted(synced(sent)) == ["fip-a", "fip-b"]
    assert FloatingIP.objects.get(address=fip["ip"]).instance_uuid == second.uuid
    # removing it from the server it left is a conflict
    assert "is not associated with instance" in error(
        act(netadmin_client, first.uuid, {"removeFloatingIp": {"address": fip["ip"]}}), 409)


def test_network_host_does_the_nat_of_a_non_multi_host_network(pool, netadmin_client, member_client, image, db):
    from network.services import networks

    network = networks.create_network("hosted", "10.239.1.0/24", bridge="cptfipu1", bridge_interface="",
                                      host="net-host")
    vm = boot_placed(member_client, image, network, host="compute-1")
    fip = allocate(netadmin_client)
    act(netadmin_client, vm.uuid, {"addFloatingIp": {"address": fip["ip"]}})
    assert FloatingIP.objects.get(address=fip["ip"]).host == "net-host"


def test_action_bad_input(pool, netadmin_client, member_client, image, fixed_network):
    vm = boot_placed(member_client, image, fixed_network)
    fip = allocate(netadmin_client)
    for body in ({"addFloatingIp": {}}, {"addFloatingIp": {"address": "x"}}, {"addFloatingIp": "1.2.3.4"},
                 {"addFloatingIp": {"address": fip["ip"], "bogus": 1}},
                 {"addFloatingIp": {"address": fip["ip"], "fixed_address": "10.239.9.9"}},
                 {"addFloatingIp": {"address": fip["ip"], "fixed_address": 7}},
                 {"removeFloatingIp": {}}, {"removeFloatingIp": {"address": 5}}):
        error(act(netadmin_client, vm.uuid, body), 400)
    assert "is not associated" in error(act(netadmin_client, vm.uuid, {"removeFloatingIp": {"address": fip["ip"]}}),
                                        400)
    error(act(netadmin_client, vm.uuid, {"addFloatingIp": {"address": "198.51.100.5"}}), 404)  # not allocated
    error(act(netadmin_client, vm.uuid, {"addFloatingIp": {"address": "203.0.113.9"}}), 404)  # no such address
    error(act(member_client, vm.uuid, {"addFloatingIp": {"address": fip["ip"]}}), 403)
    # a server without an address yet
    response = member_client.post(f"{API}/servers", {"server": {"name": "new", "imageRef": str(image.id),
                                                                "flavorRef": "1"}}, format="json")
    fresh = response.json()["server"]["id"]
    assert "No fixed IPs" in error(act(netadmin_client, fresh, {"addFloatingIp": {"address": fip["ip"]}}), 400)


def test_deleting_a_server_disassociates_its_floating_ip(pool, netadmin_client, member_client, image, fixed_network,
                                                         django_capture_on_commit_callbacks, sent):
    vm = boot_placed(member_client, image, fixed_network)
    fip = allocate(netadmin_client)
    act(netadmin_client, vm.uuid, {"addFloatingIp": {"address": fip["ip"]}})
    with django_capture_on_commit_callbacks(execute=True):
        # the host is not up: the API releases the addresses and deletes in one transaction
        assert member_client.delete(f"{API}/servers/{vm.uuid}").status_code == 204
    assert Instance.all_objects.get(pk=vm.pk).deleted_at is not None
    assert HOST in synced(sent)
    shown = netadmin_client.get(f"{FIPS}/{fip['id']}").json()["floating_ip"]
    assert (shown["fixed_ip"], shown["instance_id"]) == (None, None)  # still the project's, unassociated
    row = FloatingIP.objects.get(address=fip["ip"])
    assert (row.host, row.fixed_ip_id) == (None, None)


def test_releasing_an_associated_address_disassociates_it(pool, netadmin_client, member_client, image,
                                                          fixed_network, django_capture_on_commit_callbacks, sent):
    vm = boot_placed(member_client, image, fixed_network)
    fip = allocate(netadmin_client)
    act(netadmin_client, vm.uuid, {"addFloatingIp": {"address": fip["ip"]}})
    with django_capture_on_commit_callbacks(execute=True):
        assert netadmin_client.delete(f"{FIPS}/{fip['ip']}").status_code == 202
    assert synced(sent) == [HOST]
    row = FloatingIP.objects.get(address=fip["ip"])
    assert (row.project_id, row.instance_uuid, row.host) == (None, None, None)
    assert member_client.get(f"{API}/servers/{vm.uuid}").json()["server"]["addresses"]["fipnet"][-1][
        "OS-EXT-IPS:type"] == "fixed"


def test_teardown_hook_disassociates_before_the_fixed_ip_goes(pool, netadmin_client, member_client, image,
                                                              fixed_network, monkeypatch):
    """The host hook (delete or a failed build on the host) runs before the fixed IP is
    released: the association goes first, and the NAT host re-applies."""
    from cloudproj.host import hooks as host_hooks
    from floating.services import host as host_service

    applied = []
    monkeypatch.setattr(host_service, "sync_host", lambda host, only_if_needed=False: applied.append(host))
    vm = boot_placed(member_client, image, fixed_network)
    fip = allocate(netadmin_client)
    act(netadmin_client, vm.uuid, {"addFloatingIp": {"address": fip["ip"]}})
    host_hooks.before_cleanup(Instance.objects.get(pk=vm.pk), HOST)
    assert applied == [HOST]
    assert FloatingIP.objects.get(address=fip["ip"]).instance_uuid is None
