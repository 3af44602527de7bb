"""The real `openstack` client against a live server: server create/list/show/set/delete and
actions. No worker runs (the tasks the API would queue are recorded, not sent), so servers
stay in BUILD unless a test moves them in the DB as a host would."""
import io

import pytest

from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from compute.services.flavors import ensure_default_flavors
from images.models import Image
from images.services.registry import register_image
from network.services import fixed_ips
from network.services.networks import create_network

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sent(monkeypatch):
    """Tasks the API queued (after commit), recorded instead of reaching a broker."""
    from cloudproj.celery import app

    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: calls.append((name, args, queue)))
    return calls


@pytest.fixture
def cloud(admin_account, settings, tmp_path, sent):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.IMAGE_CACHE_PATH = tmp_path / "instances" / "_base"
    ensure_default_flavors()
    image = register_image(io.BytesIO(b"x" * 4096), "tiny-img", disk_format="raw", visibility=Image.PUBLIC)
    return image


def test_server_create_show_list_delete(osc, cloud, sent):
    network = create_network("private", "10.40.0.0/28", bridge="brosc0")
    created = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "--property", "role=web",
                  "--network", "private", "vm1")  # resolved through GET /os-networks (no Neutron)
    assert created["name"] == "vm1" and created["status"] == "BUILD"
    server_id = created["id"]
    assert ("compute.schedule_instance", "scheduler") in {(name, queue) for name, _args, queue in sent}
    assert Instance.objects.get(uuid=server_id).requested_networks == [{"uuid": str(network.uuid)}]

    address = fixed_ips.allocate_fixed_ip(network, server_id, host="h1", hostname="vm1").address

    shown = osc("server", "show", "vm1")  # by name: GET /servers/vm1 is a 404, then ?name=
    assert shown["id"] == server_id
    assert shown["status"] == "BUILD"
    assert shown["OS-EXT-STS:vm_state"] == "building"
    # from 2.47 the server embeds its flavor; the client shows it as a mapping
    flavor = shown["flavor"]
    assert (flavor["original_name"] if isinstance(flavor, dict) else flavor).startswith("m1.tiny")
    assert "tiny-img" in shown["image"]
    assert shown["properties"] == {"role": "web"}
    assert shown["addresses"] == {"private": [address]}

    rows = osc("server", "list")
    (row,) = [r for r in rows if r["ID"] == server_id]
    assert (row["Name"], row["Status"], row["Image"], row["Flavor"]) == ("vm1", "BUILD", "tiny-img", "m1.tiny")
    assert row["Networks"] == {"private": [address]}

    Instance.objects.filter(uuid=server_id).update(vm_state="active", task_state=None)  # metadata: settled servers
    osc("server", "set", "--name", "vm1-renamed", "--property", "tier=1", server_id, raw=True)
    shown = osc("server", "show", server_id)
    assert shown["name"] == "vm1-renamed"
    assert shown["properties"] == {"role": "web", "tier": "1"}

    osc("server", "delete", server_id, raw=True)
    assert Instance.all_objects.get(uuid=server_id).deleted_at is not None
    assert osc("server", "show", server_id, check=False).returncode != 0
    assert osc("server", "list") == []


def test_server_list_filters_and_paging(osc, cloud):
    for name in ("web-1", "web-2", "db-1"):
        osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", name)
    assert {r["Name"] for r in osc("server", "list", "--name", "^web")} == {"web-1", "web-2"}
    assert [r["Name"] for r in osc("server", "list", "--limit", "1")] == ["db-1"]
    # the SDK follows servers_links page by page
    assert [r["Name"] for r in osc("server", "list", "--limit", "2", "--marker", "db-1")] == ["web-2", "web-1"]
    assert osc("server", "list", "--status", "ACTIVE") == []


def test_server_actions_through_the_cli(osc, cloud, sent):
    server_id = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "acted")["id"]
    proc = osc("server", "start", server_id, check=False, raw=True)
    assert proc.returncode != 0 and "409" in proc.stderr
    row = Instance.objects.get(uuid=server_id)
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1, host="osc-host")
    osc("server", "reboot", "--hard", server_id, raw=True)
    assert Instance.objects.get(uuid=server_id).task_state == states.task.REBOOTING_HARD
    assert osc("server", "show", server_id)["status"] == "HARD_REBOOT"
    assert ("compute.instance_action", "compute.osc-host") in {(name, queue) for name, _a, queue in sent}


def test_another_projects_server_is_invisible(osc, cloud, make_account):
    make_account("demo", "member", username="demo-user")
    server_id = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "hidden")["id"]
    assert osc("server", "list", user="demo-user", project="demo") == []
    assert osc("server", "show", server_id, user="demo-user", project="demo", check=False).returncode != 0
    admin_rows = osc("server", "list", "--all-projects")
    assert [r["ID"] for r in admin_rows] == [server_id]
