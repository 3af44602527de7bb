"""Compute microversions 2.20 to 2.29 as a client sees them: each step's request and body
changes at its version and not below it (Nova's api_samples and request schemas)."""
import pytest

from cloudproj.testing.factories import make_instance
from cloudproj.testing.servers import API
from cloudproj.testing.volumes import VOLUME_HOST_A, create
from compute import states
from compute.models import Instance
from volumes.models import Volume, VolumeAttachment
from volumes.services import host as volume_host

pytestmark = pytest.mark.django_db


def v(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def call(method, path, version, body=None, status=200):
    args = (f"{API}/{path}", body) if body is not None else (f"{API}/{path}",)
    response = method(*args, format="json", **v(version))
    assert response.status_code == status, response.content
    assert response["OpenStack-API-Version"] == f"compute {version}"
    return response.json() if response.content else None


def test_2_20_volumes_attach_to_and_detach_from_shelved_offloaded_servers(member_client, member_account,
                                                                          volume_host_a):
    from volumes.services.attachments_host import disks_of_instance

    user, project, _token = member_account
    server = make_instance(project, user, host=None, vm_state=states.SHELVED_OFFLOADED, task_state=None)
    volume_id = create(member_client, project)["id"]
    assert volume_host.create_volume(Volume.objects.get(uuid=volume_id).id) == "available"  # the host's part
    path = f"servers/{server.uuid}/os-volume_attachments"
    body = {"volumeAttachment": {"volumeId": volume_id}}

    assert "conflictingRequest" in call(member_client.post, path, "2.19", body, status=409)
    attached = call(member_client.post, path, "2.20", body)["volumeAttachment"]
    # recorded only: no host holds it, so no device yet (Nova answers device null the same way)
    assert attached == {"id": volume_id, "volumeId": volume_id, "serverId": str(server.uuid), "device": None}
    assert Volume.objects.get(uuid=volume_id).status == "in-use"
    assert call(member_client.get, path, "2.20")["volumeAttachments"] == [attached]
    assert "conflictingRequest" in call(member_client.delete, f"{path}/{volume_id}", "2.19", status=409)
    assert call(member_client.delete, f"{path}/{volume_id}", "2.20", status=202) is None
    assert Volume.objects.get(uuid=volume_id).status == "available"
    assert call(member_client.get, path, "2.20")["volumeAttachments"] == []

    # attached while offloaded, then unshelved onto the volume's host: the domain gets the disk
    call(member_client.post, path, "2.20", body)
    Instance.objects.filter(pk=server.pk).update(host=VOLUME_HOST_A, vm_state=states.SHELVED_OFFLOADED,
                                                 task_state="unshelving")
    server.refresh_from_db()
    (disk,) = disks_of_instance(server)
    assert disk["target"] == "vdb" and disk["serial"] == volume_id[:20]
    assert VolumeAttachment.objects.get(volume__uuid=volume_id).instance_host == VOLUME_HOST_A
    assert call(member_client.get, path, "2.20")["volumeAttachments"][0]["device"] == "/dev/vdb"


def test_2_21_actions_of_a_deleted_server(member_client, member_account):
    from django.utils import timezone

    from compute.services import actions

    user, project, _token = member_account
    server = make_instance(project, user, vm_state=states.ACTIVE, task_state=None)
    actions.start_action(server, "create", request_id="req-create", user_id=user.id, project_id=project.id)
    actions.start_action(server, "delete", request_id="req-delete", user_id=user.id, project_id=project.id)
    Instance.all_objects.filter(pk=server.pk).update(vm_state=states.DELETED, deleted_at=timezone.now())
    path = f"servers/{server.uuid}/os-instance-actions"

    assert "itemNotFound" in call(member_client.get, path, "2.20", status=404)
    assert "itemNotFound" in call(member_client.get, f"{path}/req-delete", "2.20", status=404)
    listed = call(member_client.get, path, "2.21")["instanceActions"]
    assert [a["action"] for a in listed] == ["delete", "create"]
    shown = call(member_client.get, f"{path}/req-delete", "2.21")["instanceAction"]
    assert shown["action"] == "delete" and shown["instance_uuid"] == str(server.uuid) and shown["events"] == []


@pytest.fixture
def live_migrating(member_account):
    """A server live-migrating (as lifecycle's live migration leaves it), with its running
    migration record and a finished cold migration."""
    from compute.scheduling_models import Migration

    user, project, _token = member_account
    server = make_instance(project, user, host="host-a", vm_state=states.ACTIVE, task_state=None)
    cold = Migration.objects.create(instance_uuid=server.uuid, source_compute="host-a", dest_compute="host-b",
                                    status="confirmed", migration_type="migration")
    live = Migration.objects.create(instance_uuid=server.uuid, source_compute="host-a", source_node="host-a",
                                    dest_compute="host-b", dest_node="host-b", dest_host="10.0.0.2",
                                    status="running", migration_type="live-migration")
    return server, live, cold


def test_2_22_force_complete_a_live_migration(admin_client, member_client, live_migrating):
    server, live, cold = live_migrating
    path = f"servers/{server.uuid}/migrations/{live.pk}/action"
    body = {"force_complete": None}
    assert "itemNotFound" in call(admin_client.post, path, "2.21", body, status=404)
    assert "badRequest" in call(admin_client.post, path, "2.22", {"force_complete": {}}, status=400)
    assert "forbidden" in call(member_client.post, path, "2.22", body, status=403)
    # not live-migrating (this cloud's servers never are while it refuses live migration): 409
    assert "conflictingRequest" in call(admin_client.post, path, "2.22", body, status=409)
    Instance.objects.filter(pk=server.pk).update(task_state="migrating")
    cold_path = f"servers/{server.uuid}/migrations/{cold.pk}/action"
    assert "badRequest" in call(admin_client.post, cold_path, "2.22", body, status=400)
    message = call(admin_client.post, path, "2.22", body, status=409)["conflictingRequest"]["message"]
    assert "cannot be forced to complete" in message


def test_2_23_migrations_with_type_and_links_and_a_server_s_migrations(admin_client, member_client,
                                                                       live_migrating):
    server, live, cold = live_migrating
    old = call(admin_client.get, "os-migrations", "2.22")["migrations"]
    assert [m["id"] for m in old] == [live.pk, cold.pk]
    assert all("migration_type" not in m and "links" not in m for m in old)
    new = {m["id"]: m for m in call(admin_client.get, "os-migrations", "2.23")["migrations"]}
    assert new[cold.pk]["migration_type"] == "migration" and "links" not in new[cold.pk]
    assert new[live.pk]["migration_type"] == "live-migration"
    assert [link["href"].split("/compute")[1] for link in new[live.pk]["links"]] == [
        f"/v2.1/servers/{server.uuid}/migrations/{live.pk}", f"/servers/{server.uuid}/migrations/{live.pk}"]

    path = f"servers/{server.uuid}/migrations"
    assert "itemNotFound" in call(admin_client.get, path, "2.22", status=404)
    assert "forbidden" in call(member_client.get, path, "2.23", status=403)
    (listed,) = call(admin_client.get, path, "2.23")["migrations"]
    # doc/api_samples/server-migrations/v2.23/migrations-index.json (progress counters: null here)
    assert listed == {
        "id": live.pk, "server_uuid": str(server.uuid), "status": "running", "source_compute": "host-a",
        "source_node": "host-a", "dest_compute": "host-b", "dest_node": "host-b", "dest_host": "10.0.0.2",
        "memory_total_bytes": None, "memory_processed_bytes": None, "memory_remaining_bytes": None,
        "disk_total_bytes": None, "disk_processed_bytes": None, "disk_remaining_bytes": None,
        "created_at": listed["created_at"], "updated_at": None}
    assert call(admin_client.get, f"{path}/{live.pk}", "2.23")["migration"] == listed
    for other in (cold.pk, 999999, "x"):
        assert "itemNotFound" in call(admin_client.get, f"{path}/{other}", "2.23", status=404)


def test_2_24_abort_a_live_migration(admin_client, live_migrating):
    server, live, cold = live_migrating
    path = f"servers/{server.uuid}/migrations"
    assert "itemNotFound" in call(admin_client.delete, f"{path}/{live.pk}", "2.23", status=404)
    assert "conflictingRequest" in call(admin_client.delete, f"{path}/{live.pk}", "2.24", status=409)
    Instance.objects.filter(pk=server.pk).update(task_state="migrating")
    assert "itemNotFound" in call(admin_client.delete, f"{path}/999999", "2.24", status=404)
    assert "badRequest" in call(admin_client.delete, f"{path}/{cold.pk}", "2.24", status=400)
    message = call(admin_client.delete, f"{path}/{live.pk}", "2.24", status=409)["conflictingRequest"]["message"]
    assert "cannot be aborted" in message


@pytest.mark.parametrize("version, body, status", [
    # 2.1-2.24: block_migration, disk_over_commit and host, all required; no "auto"
    ("2.24", {"host": None, "block_migration": False, "disk_over_commit": False}, 409),
    ("2.24", {"host": None, "block_migration": "auto", "disk_over_commit": False}, 400),
    ("2.24", {"host": None, "block_migration": False}, 400),
    # 2.25: no disk_over_commit, block_migration may be "auto"
    ("2.25", {"host": None, "block_migration": "auto"}, 409),
    ("2.25", {"host": "host-b", "block_migration": True}, 409),
    ("2.25", {"host": None, "block_migration": False, "disk_over_commit": False}, 400),
    ("2.25", {"host": None, "block_migration": "sometimes"}, 400),
    ("2.25", {"block_migration": "auto"}, 400),
    ("2.25", {"host": None, "block_migration": "auto", "force": True}, 400),  # force only from 2.30
])
def test_2_25_live_migrate_request_bodies(admin_client, member_account, version, body, status):
    """Live migration itself is refused (409, resize_actions.LIVE_MIGRATION_REFUSED) once the body
    passes the version's schema."""
    user, project, _token = member_account
    server = make_instance(project, user, host="host-a", vm_state=states.ACTIVE, task_state=None)
    answer = call(admin_client.post, f"servers/{server.uuid}/action", version, {"os-migrateLive": body},
                  status=status)
    assert ("conflictingRequest" if status == 409 else "badRequest") in answer
