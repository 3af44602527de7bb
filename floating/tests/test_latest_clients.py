"""Today's clients against a live server, floating IPs through the Networking API only:
python-openstackclient 10.x (`floating ip create|show|list|set --port|unset --port|delete`,
`server add floating ip`, `floating ip list --port`) and openstacksdk 4.x (`conn.network`'s
create_ip/update_ip/delete_ip). The server is placed on a host in the DB as the boot pipeline
would leave it (no worker runs: the NAT host's request goes to a broker nobody reads, so
the status stays DOWN here; test_floating_qemu.py sees the real NAT)."""
import pytest

from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from floating.services import pools, ranges
from network.models import FixedIP
from network.services import fixed_ips, networks

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PUBLIC = pools.pool_network_id("public")


@pytest.fixture
def placed(latest_osc, image, admin_account):  # `image`: conftest's
    network = networks.create_network("fipnet", "10.239.0.0/24", bridge="cptfipu0", bridge_interface="")
    ranges.create_range("203.0.113.0/29", pool="public", interface="cptfipx0")
    server = latest_osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "vm1")
    row = Instance.objects.get(uuid=server["id"])
    fixed = fixed_ips.allocate_fixed_ip(network, row.uuid, host="fip-a", hostname="vm1")
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1, host="fip-a")
    port = str(FixedIP.objects.get(pk=fixed.pk).port_id)
    return {"id": server["id"], "fixed": fixed.address, "port": port}


def test_floating_ips_with_the_latest_openstack_cli(placed, latest_osc):
    osc = latest_osc
    created = osc("floating", "ip", "create", "public", "--description", "web")
    assert (created["floating_ip_address"], created["floating_network_id"], created["port_id"],
            created["status"], created["description"]) == ("203.0.113.1", PUBLIC, None, "DOWN", "web")
    shown = osc("floating", "ip", "show", created["id"])
    assert shown["id"] == created["id"] and shown["floating_ip_address"] == "203.0.113.1"
    assert osc("floating", "ip", "show", "203.0.113.1")["id"] == created["id"]
    (row,) = osc("floating", "ip", "list")
    assert (row["ID"], row["Floating IP Address"], row["Fixed IP Address"], row["Port"],
            row["Floating Network"]) == (created["id"], "203.0.113.1", None, None, PUBLIC)

    osc("floating", "ip", "set", "--port", placed["port"], created["id"], raw=True)
    shown = osc("floating", "ip", "show", created["id"])
    assert (shown["port_id"], shown["fixed_ip_address"]) == (placed["port"], placed["fixed"])
    (row,) = osc("floating", "ip", "list", "--port", placed["port"])
    assert row["ID"] == created["id"]
    assert osc("server", "show", "vm1")["addresses"] == {"fipnet": [placed["fixed"], "203.0.113.1"]}

    osc("floating", "ip", "unset", "--port", created["id"], raw=True)
    shown = osc("floating", "ip", "show", created["id"])
    assert (shown["port_id"], shown["fixed_ip_address"]) == (None, None)
    assert osc("floating", "ip", "list", "--port", placed["port"]) == []

    # `server add floating ip` finds the server's port (ports?device_id=) and PUTs port_id
    osc("server", "add", "floating", "ip", "vm1", "203.0.113.1", raw=True)
    assert osc("floating", "ip", "show", "203.0.113.1")["port_id"] == placed["port"]
    osc("server", "remove", "floating", "ip", "vm1", "203.0.113.1", raw=True)
    assert osc("floating", "ip", "show", "203.0.113.1")["port_id"] is None

    osc("floating", "ip", "delete", created["id"], raw=True)
    assert osc("floating", "ip", "list") == []
    gone = osc("floating", "ip", "show", created["id"], check=False)
    assert gone.returncode == 1 and ("could not be found" in gone.stderr.lower()
                                     or "no floatingip" in gone.stderr.lower()), gone.stderr


def test_floating_ips_with_the_latest_openstacksdk(placed, latest_sdk):
    result = latest_sdk(f"""
        ip = conn.network.create_ip(floating_network_id={PUBLIC!r})
        out = {{"created": [ip.floating_ip_address, ip.port_id, ip.status, ip.floating_network_id]}}
        ip = conn.network.update_ip(ip, port_id={placed["port"]!r})
        out["associated"] = [ip.port_id, ip.fixed_ip_address]
        out["found"] = [i.id for i in conn.network.ips(port_id={placed["port"]!r})]
        ip = conn.network.update_ip(ip, port_id=None)
        out["disassociated"] = [ip.port_id, ip.fixed_ip_address]
        conn.network.delete_ip(ip)
        out["left"] = [i.id for i in conn.network.ips()]
        out["id"] = ip.id
        print(json.dumps(out))
    """)
    assert result["created"] == ["203.0.113.1", None, "DOWN", PUBLIC]
    assert result["associated"] == [placed["port"], placed["fixed"]]
    assert result["found"] == [result["id"]]
    assert result["disassociated"] == [None, None]
    assert result["left"] == []


@pytest.fixture
def pipeline_stand_in(latest_sdk, image, admin_account, make_account):
    """What the boot pipeline and the NAT host would do, from a thread of this process (no
    worker or agent runs here): a new server `auto` gets a fixed address on `fipnet` and goes
    ACTIVE on host fip-a; a floating IP associated with it is reported applied by its NAT host
    (floating.services.host records that after a real apply; test_floating_qemu.py sees it)."""
    import threading
    import time

    from django.db import connection

    from floating.linux import nat
    from floating.models import FloatingIP
    from floating.services.host import _record_applied

    make_account("demo", "netadmin", username="demo-netadmin")
    network = networks.create_network("fipnet", "10.239.0.0/24", bridge="cptfipu0", bridge_interface="")
    ranges.create_range("203.0.113.0/29", pool="public", interface="cptfipx0")
    stop = threading.Event()
    done = {}

    def work():
        try:
            while not stop.is_set():
                row = Instance.objects.filter(display_name="auto").first() if "placed" not in done else None
                if row is not None:
                    fixed = fixed_ips.allocate_fixed_ip(network, row.uuid, host="fip-a", hostname="auto")
                    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1,
                                                  host="fip-a")
                    done["placed"] = fixed.address
                for fip in FloatingIP.objects.filter(host="fip-a", nat_applied=False,
                                                     instance_uuid__isnull=False).select_related("fixed_ip"):
                    _record_applied("fip-a", [nat.Mapping(fip.address, fip.fixed_ip.address, "cptfipx0")])
                    done["applied"] = fip.address
                time.sleep(0.3)
        finally:
            connection.close()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    yield done
    stop.set()
    thread.join(10)


def test_cloud_layer_create_server_with_auto_ip(pipeline_stand_in, latest_sdk):
    # A project's netadmin, not an admin: an admin sees the fixed networks' provider:physical_network,
    # which openstacksdk's cloud layer takes for a routable (external) network, and then adds no
    # floating IP (the fixed address counts as public_v4).
    result = latest_sdk("""
        server = conn.create_server("auto", image="tiny-img", flavor="m1.tiny", network="fipnet", auto_ip=True,
                                    wait=True, timeout=90)
        import time
        deadline = time.monotonic() + 30  # ACTIVE once the NAT host reports it applied
        while any(i.status != "ACTIVE" for i in conn.network.ips()) and time.monotonic() < deadline:
            time.sleep(0.5)
        ips = list(conn.network.ips())
        shown = conn.get_server(server.id)
        print(json.dumps({"public": shown.public_v4, "status": server.status,
                          "addresses": [a["addr"] for a in shown.addresses["fipnet"]],
                          "ips": [[i.floating_ip_address, i.fixed_ip_address, i.status] for i in ips]}))
    """, user="demo-netadmin", project="demo")
    assert result["status"] == "ACTIVE", result
    assert result["public"] == pipeline_stand_in["applied"] == "203.0.113.1"
    assert result["addresses"] == [pipeline_stand_in["placed"], "203.0.113.1"]
    assert result["ips"] == [["203.0.113.1", pipeline_stand_in["placed"], "ACTIVE"]]
