"""Admin repairs of stuck servers: os-resetState and forceDelete, through the API and the real
`openstack` client. No worker runs here: the messages the API sends are recorded (the host
side of a force delete, reconcile.reap_deleted, is tested in test_reconcile_simulated.py and
with a real guest in test_reconcile_qemu.py)."""
import pytest

from cloudproj.testing.factories import make_host
from cloudproj.testing.servers import API, boot, error, instance, show
from compute import states
from compute.models import Claim, Instance, InstanceAction
from compute.services import instances as instance_service
from identity.services import quotas
from network.models import FixedIP
from network.services import fixed_ips
from network.services.networks import create_network

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path (every test here)."""


T = states.task


@pytest.fixture
def sent(monkeypatch):
    from cloudproj.celery import app

    calls = []
    monkeypatch.setattr(app, "send_task",
                        lambda name, args=None, kwargs=None, queue=None, **kw: calls.append((name, args, queue)))
    return calls


def act(client, server_id, body):
    return client.post(f"{API}/servers/{server_id}/action", body, format="json")


def stuck(server_id, task_state=T.DELETING, host="repair-host"):
    row = instance(server_id)
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=task_state, power_state=1, host=host)
    return row


# --- os-resetState -------------------------------------------------------------------------------


@pytest.mark.parametrize("state, status", [("error", "ERROR"), ("active", "ACTIVE"), ("ERROR", "ERROR")])
def test_admin_resets_a_stuck_server(member_client, admin_client, image, state, status):
    server = boot(member_client, image, "stuck")["server"]["id"]
    stuck(server, T.REBOOTING_HARD)
    response = act(admin_client, server, {"os-resetState": {"state": state}})
    assert response.status_code == 202, response.content
    shown = show(member_client, server)
    assert (shown["status"], shown["OS-EXT-STS:task_state"]) == (status, None)
    assert InstanceAction.objects.filter(instance__uuid=server, action="resetState").exists()


def test_reset_state_is_for_admins_and_checks_its_input(member_client, admin_client, image):
    server = boot(member_client, image, "stuck")["server"]["id"]
    stuck(server, T.REBOOTING)
    error(act(member_client, server, {"os-resetState": {"state": "error"}}), 403)
    for body in ({"state": "stopped"}, {"state": 1}, {}, {"state": "error", "x": 1}, "error"):
        error(act(admin_client, server, {"os-resetState": body}), 400)
    assert instance(server).task_state == T.REBOOTING
    error(act(admin_client, "0b2c47d6-7c7d-4c39-9d32-9f2c3f0e0e0e", {"os-resetState": {"state": "error"}}), 404)


# --- forceDelete ---------------------------------------------------------------------------------


def test_force_delete_of_a_server_stuck_in_deleting_releases_everything(member_client, member_account, image,
                                                                         sent, django_capture_on_commit_callbacks):
    make_host("repair-host")
    network = create_network("repairnet", "10.250.0.0/28", bridge="cptrec9")
    server = boot(member_client, image, "doomed")["server"]["id"]
    row = stuck(server)
    fixed_ips.allocate_fixed_ip(network, row.uuid, host="repair-host")
    project = member_account[1]
    assert quotas.get_usages(project)["instances"]["in_use"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = act(member_client, server, {"forceDelete": None})

    assert response.status_code == 202, response.content
    error(member_client.get(f"{API}/servers/{server}"), 404)
    row = Instance.all_objects.get(uuid=server)
    assert (row.vm_state, row.task_state) == (states.DELETED, None) and row.deleted_at is not None
    assert not FixedIP.objects.filter(instance_uuid=server).exists()
    assert not Claim.objects.filter(instance=row).exists()
    assert quotas.get_usages(project)["instances"]["in_use"] == 0
    # the live host is told to remove the domain and disk
    assert ("compute.reap_deleted_instance", [server, "repair-host"], "compute.repair-host") in sent
    assert InstanceAction.objects.filter(instance=row, action="forceDelete", finish_time__isnull=False).exists()
    # a second force delete is a 404, as for any deleted server
    error(act(member_client, server, {"forceDelete": None}), 404)


def test_force_delete_with_the_host_down_sends_nothing(member_client, image, sent,
                                                       django_capture_on_commit_callbacks):
    make_host("repair-host", up=False)
    server = boot(member_client, image, "doomed")["server"]["id"]
    stuck(server, T.SPAWNING)
    with django_capture_on_commit_callbacks(execute=True):
        assert act(member_client, server, {"forceDelete": None}).status_code == 202
    assert Instance.all_objects.get(uuid=server).deleted_at is not None
    assert not [call for call in sent if call[0] == "compute.reap_deleted_instance"]


def test_force_delete_of_another_projects_server_is_404(member_client, other_client, image):
    server = boot(member_client, image, "mine")["server"]["id"]
    error(act(other_client, server, {"forceDelete": None}), 404)
    error(act(member_client, server, {"forceDelete": {"now": True}}), 400)
    assert Instance.objects.filter(uuid=server).exists()


# --- the real client -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_openstack_client_sets_state_and_force_deletes(osc, admin_account, settings, tmp_path, sent):
    import io

    from compute.services.flavors import ensure_default_flavors
    from images.models import Image
    from images.services.registry import register_image

    settings.IMAGE_STORE_PATH = tmp_path / "store"
    ensure_default_flavors()
    register_image(io.BytesIO(b"x" * 4096), "tiny-img", disk_format="raw", visibility=Image.PUBLIC)
    server_id = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "vm1")["id"]
    stuck(server_id, T.DELETING)

    osc("server", "set", "--auto-approve", "--state", "error", "vm1", raw=True)
    shown = osc("server", "show", "vm1")
    assert (shown["status"], shown["OS-EXT-STS:task_state"]) == ("ERROR", None)
    osc("server", "set", "--auto-approve", "--state", "active", "vm1", raw=True)
    assert osc("server", "show", "vm1")["status"] == "ACTIVE"

    stuck(server_id, T.DELETING)
    osc("server", "delete", "--force", "vm1", raw=True)
    assert Instance.all_objects.get(uuid=server_id).deleted_at is not None
    assert osc("server", "list") == []
