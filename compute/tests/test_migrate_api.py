"""Cold and live migration and evacuation on POST /servers/{id}/action as a client sees them: `migrate` is
for admins (403 for the owner), 202 and RESIZE with its message to the scheduler, 409 in a
state that does not allow it, 400 for a body the negotiated microversion does not take (a
target host needs 2.56); `os-migrateLive` is 202 and MIGRATING with its message to the
scheduler, listed by GET /servers/{id}/migrations until it ends, abortable (DELETE) while in
progress, 400 without block migration, 403 for the owner; `evacuate` (admins) is 400 while the server's
host is up, 200 with an adminPass once it is down. No worker runs."""
import pytest

from cloudproj.celery import app
from cloudproj.testing.servers import act, error, instance, make_active, show
from compute import states
from compute.models import InstanceAction, InstanceResize, Migration, Service

pytestmark = pytest.mark.django_db

T = states.task

# os-migrateLive in its 2.1 shape (these requests carry no microversion)
LIVE_2_1 = {"os-migrateLive": {"host": None, "block_migration": False, "disk_over_commit": False}}
# the server migrations API and block_migration "auto" need 2.23 / 2.25
V2_25 = {"HTTP_OPENSTACK_API_VERSION": "compute 2.25"}


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path."""


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: calls.append((name, args, queue)))
    return calls


def test_admin_migrates_a_server(admin_client, member_client, server, sent, django_capture_on_commit_callbacks):
    make_active(server)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, server, {"migrate": None})
    assert response.status_code == 202 and response.content == b""
    shown = show(member_client, server)
    assert shown["status"] == "RESIZE" and shown["OS-EXT-STS:task_state"] == T.RESIZE_PREP
    record = InstanceResize.objects.get(instance__uuid=server)
    assert (record.kind, record.requested_host, record.source_host) == ("migration", None, "host-a")
    assert record.old_flavor == record.new_flavor
    assert [(name, queue) for name, _args, queue in sent] == [("compute.prep_resize", "scheduler")]
    assert InstanceAction.objects.filter(instance__uuid=server, action="migrate").exists()
    migration = Migration.objects.get(instance_uuid=server)
    assert (migration.migration_type, migration.status, migration.source_compute) == (
        "migration", "pre-migrating", "host-a")
    # busy: a second migrate is refused
    assert "task_state resize_prep" in error(act(admin_client, server, {"migrate": None}), 409)


def test_the_owner_may_not_migrate(member_client, server, sent):
    make_active(server)
    error(act(member_client, server, {"migrate": None}), 403)
    error(act(member_client, server, LIVE_2_1), 403)
    assert not InstanceResize.objects.exists() and not sent


@pytest.mark.parametrize("body, message", [
    ({"migrate": {"host": "host-b"}}, "must be null"),  # a target host only from 2.56
    ({"migrate": "now"}, "must be null"),
])
def test_bad_migrate_requests_are_400(admin_client, server, sent, body, message):
    make_active(server)
    assert message in error(act(admin_client, server, body), 400)
    assert not InstanceResize.objects.exists() and not sent


def test_migrate_of_a_building_server_is_409(admin_client, server, sent):
    error(act(admin_client, server, {"migrate": None}), 409)
    assert not sent


def test_admin_live_migrates_lists_and_aborts(admin_client, member_client, server, sent,
                                             django_capture_on_commit_callbacks):
    make_active(server)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, server, {"os-migrateLive": {"host": None, "block_migration": "auto"}}, **V2_25)
    assert response.status_code == 202 and response.content == b""
    shown = show(member_client, server)
    assert shown["status"] == "MIGRATING" and shown["OS-EXT-STS:task_state"] == T.MIGRATING
    assert [(name, queue) for name, _args, queue in sent] == [("compute.live_migration_schedule", "scheduler")]
    assert InstanceAction.objects.filter(instance__uuid=server, action="live-migration").exists()
    migration = Migration.objects.get(instance_uuid=server)
    assert (migration.migration_type, migration.status, migration.source_compute) == (
        "live-migration", "queued", "host-a")
    url = f"/compute/v2.1/servers/{server}/migrations"
    listed = admin_client.get(url, **V2_25).json()["migrations"]
    assert [(row["id"], row["status"], row["source_compute"]) for row in listed] == [
        (migration.pk, "queued", "host-a")]
    assert admin_client.get(f"{url}/{migration.pk}", **V2_25).json()["migration"]["server_uuid"] == server
    error(member_client.get(url, **V2_25), 403)
    error(admin_client.get(f"{url}/999999", **V2_25), 404)
    # busy: a second one is refused; force-complete needs a running one; a bad body is 400
    again = {"os-migrateLive": {"host": None, "block_migration": "auto"}}
    assert "task_state migrating" in error(act(admin_client, server, again, **V2_25), 409)
    assert "status running" in error(admin_client.post(f"{url}/{migration.pk}/action", {"force_complete": None},
                                               format="json", **V2_25), 400)
    error(admin_client.post(f"{url}/{migration.pk}/action", {"force": 1}, format="json", **V2_25), 400)
    # a queued one is aborted from 2.65 (below: 400)
    assert admin_client.delete(f"{url}/{migration.pk}", HTTP_OPENSTACK_API_VERSION="compute 2.65").status_code == 202
    assert InstanceResize.objects.get(instance__uuid=server).live_request == "abort"


@pytest.mark.parametrize("body, message", [
    ({"os-migrateLive": {"host": None, "block_migration": False}}, "share no instance storage"),
    ({"os-migrateLive": {"host": "nowhere", "block_migration": "auto"}}, "nowhere could not be found"),
    ({"os-migrateLive": {"host": 7, "block_migration": "auto"}}, "must be a string"),
])
def test_bad_live_migration_requests_are_400(admin_client, server, sent, body, message):
    make_active(server)
    assert message in error(act(admin_client, server, body, **V2_25), 400)
    assert not InstanceResize.objects.exists() and not sent


def test_live_migration_of_a_stopped_server_is_409(admin_client, server, sent):
    make_active(server)
    instance_row = instance(server)
    instance_row.vm_state = states.STOPPED
    instance_row.save(update_fields=["vm_state"])
    error(act(admin_client, server, {"os-migrateLive": {"host": None, "block_migration": "auto"}}, **V2_25), 409)
    assert not sent


def test_evacuate_is_refused_while_the_host_is_up(admin_client, member_client, server, sent, compute_host):
    compute_host("host-a")
    make_active(server)
    body = {"evacuate": {"onSharedStorage": False}}
    assert "still in use" in error(act(admin_client, server, body), 400)
    error(act(member_client, server, body), 403)
    assert not sent and instance(server).task_state is None


def test_admin_evacuates_a_server_of_a_down_host(admin_client, server, sent, compute_host,
                                                 django_capture_on_commit_callbacks):
    compute_host("host-a")
    compute_host("host-b")
    Service.objects.filter(host="host-a").update(forced_down=True)
    make_active(server)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, server, {"evacuate": {"onSharedStorage": False, "host": "host-b"}})
    assert response.status_code == 200 and response.json()["adminPass"]
    shown = show(admin_client, server)
    assert shown["status"] == "REBUILD" and shown["OS-EXT-STS:task_state"] == T.REBUILDING
    assert [(name, queue) for name, _args, queue in sent] == [("compute.evacuate_schedule", "scheduler")]
    migration = Migration.objects.get(instance_uuid=server)
    assert (migration.migration_type, migration.status, migration.source_compute, migration.dest_compute) == (
        "evacuation", "accepted", "host-a", "host-b")


def test_evacuate_from_2_14_takes_no_on_shared_storage_and_answers_no_password(admin_client, server, sent,
                                                                               compute_host):
    compute_host("host-a")
    compute_host("host-b")
    Service.objects.filter(host="host-a").update(forced_down=True)
    make_active(server)
    url = f"/compute/v2.1/servers/{server}/action"
    refused = admin_client.post(url, {"evacuate": {"onSharedStorage": False}}, format="json",
                                HTTP_OPENSTACK_API_VERSION="compute 2.14")
    assert "additional properties" in error(refused, 400)
    response = admin_client.post(url, {"evacuate": {"host": "host-b"}}, format="json",
                                 HTTP_OPENSTACK_API_VERSION="compute 2.14")
    assert response.status_code == 200 and not response.content
    assert Migration.objects.get(instance_uuid=server).dest_compute == "host-b"


@pytest.mark.parametrize("body, message", [
    ({"evacuate": {}}, "onSharedStorage"),
    ({"evacuate": {"onSharedStorage": "no"}}, "must be a boolean"),
    ({"evacuate": {"onSharedStorage": True}}, "share no instance storage"),
    ({"evacuate": {"onSharedStorage": False, "host": 7}}, "host"),
    ({"evacuate": {"onSharedStorage": False, "host": "host-x"}}, "could not be found"),
    ({"evacuate": {"onSharedStorage": False, "force": True}}, "additional properties"),
    ({"evacuate": None}, "must be an object"),
])
def test_bad_evacuate_requests_are_400(admin_client, server, sent, compute_host, body, message):
    compute_host("host-a")
    Service.objects.filter(host="host-a").update(forced_down=True)
    make_active(server)
    assert message in error(act(admin_client, server, body), 400)
    assert not Migration.objects.exists() and not sent
