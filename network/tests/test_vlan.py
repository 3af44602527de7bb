"""The VLAN manager: K networks from one command, one per project on first boot (atomic under
concurrency), os-networks admin create/delete/add/disassociate, `network list`'s 802.1Q note."""
import threading
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from cloudproj.testing.factories import Ctx, make_project_user
from compute.models import Flavor, Instance
from compute.services import operations
from cloudproj.exceptions import Invalid
from identity.services import quotas
from network.models import FixedIP, Network
from network.services import InvalidNetwork, fixed_ips, networks, vlan

BASE = "/compute/v2.1/os-networks"


@pytest.fixture
def vlan_settings(settings):
    settings.NETWORK_MANAGER = "vlan"
    settings.VLAN_INTERFACE = "eth0"
    settings.VLAN_BRIDGE_PREFIX = "cptvl"
    settings.VLAN_DEVICE_PREFIX = "cptvlv"
    return settings


def _pool(k=4, start=300, cidr="10.241.0.0/22", size=256):
    return vlan.create_vlan_networks("vl", cidr, vlan_start=start, num_networks=k, network_size=size)


@pytest.mark.django_db
def test_k_networks_from_one_command(vlan_settings):
    out = StringIO()
    call_command("network", "create", "--label", "proj", "--fixed_range_v4", "10.241.0.0/22", "--num_networks", "4",
                 "--network_size", "256", "--vlan_start", "300", stdout=out)
    rows = list(Network.objects.order_by("vlan"))
    assert [(n.label, n.cidr, n.vlan, n.bridge, n.gateway, n.bridge_interface, n.project_id) for n in rows] == [
        (f"proj_{i + 1}", f"10.241.{i}.0/24", 300 + i, f"cptvl{300 + i}", f"10.241.{i}.1", "eth0", None)
        for i in range(4)]
    assert out.getvalue().count("created") == 4 and "vlan 303" in out.getvalue()
    assert FixedIP.objects.filter(network=rows[0], reserved=False).count() == 253
    with pytest.raises(InvalidNetwork, match="vlan 303 is already used"):
        vlan.create_vlan_networks("again", "10.241.8.0/24", vlan_start=303)
    with pytest.raises(InvalidNetwork, match="holds 2 networks of 256 addresses, not 3"):
        vlan.create_vlan_networks("big", "10.241.16.0/23", vlan_start=400, num_networks=3, network_size=256)
    with pytest.raises(InvalidNetwork, match=r"within 1..4094"):
        vlan.create_vlan_networks("hi", "10.241.16.0/24", vlan_start=4094, num_networks=2)
    assert Network.objects.count() == 4  # failed creations left nothing
    one = vlan.create_vlan_networks("solo", "10.241.20.0/24", vlan_start=320, bridge="cptvlsolo")[0]
    assert (one.label, one.bridge, one.vlan) == ("solo", "cptvlsolo", 320)
    # network list: the VLAN ids, and the 802.1Q note this process found (here: not available)
    out = StringIO()
    call_command("network", "list", stdout=out)
    assert "proj_3" in out.getvalue() and "302" in out.getvalue()
    assert "note: VLAN networks on eth0: 802.1Q " in out.getvalue()


@pytest.mark.django_db
def test_projects_get_their_own_network_on_first_use(vlan_settings):
    _pool(k=2)
    a, _ = make_project_user("vla")
    b, _ = make_project_user("vlb")
    c, _ = make_project_user("vlc")
    first = vlan.network_for_project(a.id)
    assert vlan.network_for_project(a.id) == first  # the same one again
    second = vlan.network_for_project(b.id)
    assert (first.vlan, second.vlan) == (300, 301) and first.bridge != second.bridge
    with pytest.raises(InvalidNetwork) as exc:
        vlan.network_for_project(c.id)
    assert exc.value.code == 400
    assert exc.value.message == (f"no network available for project {c.id}: an operator must create more "
                                 "(network create --vlan_start ...)")
    # members see their project's network only: not the pool, not the other project's
    assert list(networks.visible_networks(a.id, is_admin=False)) == [first]
    vlan.disassociate(second)
    assert vlan.network_for_project(c.id).pk == second.pk


def _world(name):
    project, user = make_project_user(name)
    quotas.set_quotas(project, {"instances": 10, "cores": 10, "ram": 10 * 1024})
    return Ctx(user, project, request_id=f"req-{name}")


def _image():
    return {"id": str(uuid.uuid4()), "status": "active", "properties": {}, "min_disk": 0, "min_ram": 0, "size": 1}


@pytest.fixture
def no_broker(monkeypatch):
    from cloudproj import rpc

    monkeypatch.setattr(rpc, "schedule_instance", lambda *a, **k: None)  # no workers here: the assignment is at create


@pytest.mark.django_db(transaction=True)
def test_two_projects_booting_at_once_get_different_networks(vlan_settings, no_broker):
    _pool(k=3)
    flavor = Flavor.objects.create(flavorid="vl.tiny", name="vl.tiny", memory_mb=64, vcpus=1, root_gb=0)
    ctxs = [_world("vlx"), _world("vly")]
    barrier, results, errors = threading.Barrier(4), {}, []

    def boot(ctx, n):
        try:
            barrier.wait()
            results[(ctx.project_id, n)] = operations.create_servers(ctx, f"vm{n}", flavor, _image())
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=boot, args=(ctx, n)) for ctx in ctxs for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assigned = {ctx.project_id: Network.objects.get(project_id=ctx.project_id) for ctx in ctxs}
    assert len({n.pk for n in assigned.values()}) == 2  # one network each, different
    for ctx in ctxs:
        for instance in Instance.objects.filter(project_id=ctx.project_id):
            assert instance.requested_networks == [{"uuid": str(assigned[ctx.project_id].uuid)}]
    assert Network.objects.filter(project__isnull=True).count() == 1
    # --nic net-id= another project's network: not found for a member
    other = assigned[ctxs[1].project_id]
    with pytest.raises(Invalid, match="could not be found"):
        operations.resolve_networks(ctxs[0], [{"uuid": str(other.uuid)}])


@pytest.mark.django_db
def test_no_network_left_is_a_clear_400_at_create(vlan_settings, no_broker):
    from compute.services.host_resources import requested_networks

    ctx = _world("vlz")
    with pytest.raises(Invalid, match=f"no network available for project {ctx.project_id}"):
        operations.resolve_networks(ctx, "auto")
    _pool(k=1)
    instance = Instance(project_id=ctx.project_id, requested_networks=[])
    assert requested_networks(instance)[0].vlan == 300  # the pipeline's fallback assigns it too


@pytest.mark.django_db
def test_os_networks_admin_create_delete_associate(vlan_settings, member_account, member_client, admin_client,
                                                   admin_account):
    body = {"network": {"label": "apivl", "cidr": "10.241.64.0/24", "vlan_start": 350, "bridge": "cptvlapi"}}
    denied = member_client.post(BASE, body, format="json")
    assert denied.status_code == 403 and "forbidden" in denied.json()
    created = admin_client.post(BASE, body, format="json")
    assert created.status_code == 200, created.json()
    net = created.json()["network"]
    assert (net["label"], net["cidr"], net["vlan"], net["bridge"], net["project_id"]) == (
        "apivl", "10.241.64.0/24", 350, "cptvlapi", None)
    many = admin_client.post(BASE, {"network": {"label": "m", "cidr": "10.241.68.0/22", "vlan_start": 360,
                                                "num_networks": 2, "network_size": 512}}, format="json")
    assert many.status_code == 200, many.json()
    assert [(n["cidr"], n["vlan"], n["bridge"]) for n in many.json()["networks"]] == [
        ("10.241.68.0/23", 360, "cptvl360"), ("10.241.70.0/23", 361, "cptvl361")]
    for bad in ({"network": {"label": "b", "cidr": "10.241.80.0/24", "vlan_start": 5000}},
                {"network": {"label": "b", "cidr": "10.241.80.0/24", "vlan_start": 350}},
                {"network": {"label": "b", "cidr": "nonsense", "vlan_start": 390}},
                {"network": {"label": "b", "cidr": "10.241.80.0/24", "bogus": 1}}):
        response = admin_client.post(BASE, bad, format="json")
        assert response.status_code == 400 and "badRequest" in response.json(), (bad, response.json())

    # add: the caller's project (admin's); member refused; unknown 404; bad body 400
    assert member_client.post(f"{BASE}/add", {"id": net["id"]}, format="json").status_code == 403
    assert admin_client.post(f"{BASE}/add", {"id": net["id"]}, format="json").status_code == 202
    admin_project = admin_account[1]
    assert Network.objects.get(uuid=net["id"]).project_id == admin_project.id
    missing = admin_client.post(f"{BASE}/add", {"id": str(uuid.uuid4())}, format="json")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()
    assert admin_client.post(f"{BASE}/add", {"net": 1}, format="json").status_code == 400
    # the member's project sees it once associated with it; not before
    member_project = member_account[1]
    assert [n["label"] for n in member_client.get(BASE).json()["networks"]] == []
    vlan.associate(Network.objects.get(label="m_1"), member_project.id)
    assert [n["label"] for n in member_client.get(BASE).json()["networks"]] == ["m_1"]
    taken = admin_client.post(f"{BASE}/add", {"id": many.json()["networks"][0]["id"]}, format="json")
    assert taken.status_code == 409  # another project has it

    # disassociate: 403 member, 400 bad action, 404 unknown, 409 with addresses, 202
    action = f"{BASE}/{net['id']}/action"
    assert member_client.post(action, {"disassociate": None}, format="json").status_code == 403
    assert admin_client.post(action, {"explode": None}, format="json").status_code == 400
    unknown = admin_client.post(f"{BASE}/{uuid.uuid4()}/action", {"disassociate": None}, format="json")
    assert unknown.status_code == 404
    network = Network.objects.get(uuid=net["id"])
    vm = uuid.uuid4()
    fixed_ips.allocate_fixed_ip(network, vm)
    busy = admin_client.post(action, {"disassociate": None}, format="json")
    assert busy.status_code == 409 and "conflictingRequest" in busy.json()
    assert admin_client.delete(f"{BASE}/{net['id']}").status_code == 409  # delete refused while allocated
    fixed_ips.release_fixed_ip(vm)
    assert admin_client.post(action, {"disassociate": None}, format="json").status_code == 202
    assert Network.objects.get(uuid=net["id"]).project_id is None
    assert admin_client.post(action, {"associate_host": "h1"}, format="json").status_code == 202
    assert Network.objects.get(uuid=net["id"]).host == "h1"
    assert admin_client.post(action, {"disassociate_host": None}, format="json").status_code == 202
    assert Network.objects.get(uuid=net["id"]).host is None
    # delete: member 403, unknown 404, admin 202
    assert member_client.delete(f"{BASE}/{net['id']}").status_code == 403
    assert admin_client.delete(f"{BASE}/{uuid.uuid4()}").status_code == 404
    assert admin_client.delete(f"{BASE}/{net['id']}").status_code == 202
    assert admin_client.get(f"{BASE}/{net['id']}").status_code == 404
    # {"id": null}: the next free VLAN network for the caller's project (admin already has none now)
    assert admin_client.post(f"{BASE}/add", {"id": None}, format="json").status_code == 202
    assert Network.objects.get(label="m_2").project_id == admin_project.id
