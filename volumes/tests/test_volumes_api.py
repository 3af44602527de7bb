"""Block Storage v3 volumes and snapshots, and Compute's volume attachments, through the API
(DRF test client). No agent runs here: the tests do the host's part themselves by calling
volumes.services.host with the file driver under tmp_path, as the agent would."""
import threading

import pytest
from django.db import connection

from cloudproj.testing.factories import make_instance
from cloudproj.testing.volumes import VOLUME_HOST_A as HOST
from cloudproj.testing.volumes import create, register, url
from compute.models import Service
from identity.services import quotas
from volumes.models import Volume, VolumeAttachment, VolumeHost
from volumes.services import host as volume_host

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(member_account):
    return member_account[1]


def error(resp, code, name):
    assert resp.status_code == code, resp.content
    body = resp.json()
    assert body[name]["code"] == code
    return body[name]["message"]


def test_create_show_list_update_delete(member_client, demo, volume_host_a, settings):
    body = create(member_client, demo, name="v1", description="d", metadata={"k": "v"})
    assert body["status"] == "creating" and body["size"] == 1 and body["name"] == "v1"
    assert body["availability_zone"] == "nova" and body["attachments"] == [] and body["metadata"] == {"k": "v"}
    assert "os-vol-host-attr:host" not in body  # admins only
    volume = Volume.objects.get(uuid=body["id"])
    assert volume.host == HOST and volume.driver == "file"
    assert volume_host.create_volume(volume.id) == "available"
    assert volume_host.create_volume(volume.id) == "skipped"  # a re-delivered message
    assert (settings.VOLUMES_PATH / f"{volume.storage_name}.raw").stat().st_size == 1024 ** 3

    shown = member_client.get(url(demo, f"volumes/{volume.uuid}")).json()["volume"]
    assert shown["status"] == "available" and "ec2_id" not in shown
    assert "os-vol-host-attr:host" not in shown and shown["volume_type"] == "__DEFAULT__"
    assert shown["os-vol-tenant-attr:tenant_id"] == demo.id  # readers see the project (Cinder since Xena)
    summary = member_client.get(url(demo, "volumes")).json()["volumes"]
    assert [set(row) for row in summary] == [{"id", "name", "links"}]
    detail = member_client.get(url(demo, "volumes/detail?name=v1")).json()["volumes"]
    assert [row["id"] for row in detail] == [str(volume.uuid)]
    assert member_client.get(url(demo, "volumes/detail?name=nope")).json()["volumes"] == []

    resp = member_client.put(url(demo, f"volumes/{volume.uuid}"), {"volume": {"name": "v2"}}, format="json")
    assert resp.status_code == 200 and resp.json()["volume"]["name"] == "v2"

    assert member_client.delete(url(demo, f"volumes/{volume.uuid}")).status_code == 202
    assert Volume.objects.get(pk=volume.pk).status == "deleting"
    assert quotas.get_usages(demo)["gigabytes"]["in_use"] == 1  # given back once the storage is gone
    assert volume_host.delete_volume(volume.id) == "deleted"
    assert not (settings.VOLUMES_PATH / f"{volume.storage_name}.raw").exists()
    assert quotas.get_usages(demo)["gigabytes"]["in_use"] == 0
    error(member_client.get(url(demo, f"volumes/{volume.uuid}")), 404, "itemNotFound")


def test_validation_and_quota_errors(member_client, demo, volume_host_a):
    for size in (0, -1, "x", None, True):
        message = error(member_client.post(url(demo, "volumes"), {"volume": {"size": size}}, format="json"),
                        400, "badRequest")
        assert "size" in message
    error(member_client.post(url(demo, "volumes"), {"volume": {"size": 1, "bogus": 1}}, format="json"),
          400, "badRequest")
    error(member_client.post(url(demo, "volumes"), {"size": 1}, format="json"), 400, "badRequest")
    error(member_client.post(url(demo, "volumes"), {"volume": {"size": 1, "availability_zone": "elsewhere"}},
                             format="json"), 400, "badRequest")
    quotas.set_quota(demo, "gigabytes", 2)
    message = error(member_client.post(url(demo, "volumes"), {"volume": {"size": 3}}, format="json"),
                    413, "overLimit")
    assert "gigabytes" in message
    quotas.set_quota(demo, "volumes", 1)
    create(member_client, demo)
    assert "volumes" in error(member_client.post(url(demo, "volumes"), {"volume": {"size": 1}}, format="json"),
                              413, "overLimit")
    assert Volume.objects.count() == 1
    error(member_client.get(url(demo, "volumes/not-a-uuid")), 404, "itemNotFound")
    other = "/volume/v3/someone-else/volumes"
    error(member_client.get(other), 400, "badRequest")


def test_another_projects_volume_is_invisible(member_client, admin_client, admin_account, demo, volume_host_a):
    theirs = create(admin_client, admin_account[1])
    error(member_client.get(url(demo, f"volumes/{theirs['id']}")), 404, "itemNotFound")
    assert member_client.get(url(demo, "volumes/detail?all_tenants=1")).json()["volumes"] == []
    listed = admin_client.get(url(admin_account[1], "volumes/detail?all_tenants=1")).json()["volumes"]
    assert [row["os-vol-host-attr:host"] for row in listed] == [f"{HOST}@file#file"]


def test_state_machine(member_client, demo, volume_host_a):
    body = create(member_client, demo)
    volume = Volume.objects.get(uuid=body["id"])
    extend = {"os-extend": {"new_size": 2}}
    # still creating: no extend, no delete, no snapshot
    assert "available" in error(member_client.post(url(demo, f"volumes/{volume.uuid}/action"), extend,
                                                   format="json"), 400, "badRequest")
    error(member_client.delete(url(demo, f"volumes/{volume.uuid}")), 400, "badRequest")
    error(member_client.post(url(demo, "snapshots"), {"snapshot": {"volume_id": str(volume.uuid)}}, format="json"),
          400, "badRequest")
    volume_host.create_volume(volume.id)
    error(member_client.post(url(demo, f"volumes/{volume.uuid}/action"), {"os-extend": {"new_size": 1}},
                             format="json"), 400, "badRequest")
    error(member_client.post(url(demo, f"volumes/{volume.uuid}/action"), {"os-bogus": {}},
                             format="json"), 400, "badRequest")
    assert member_client.post(url(demo, f"volumes/{volume.uuid}/action"), extend, format="json").status_code == 202
    assert Volume.objects.get(pk=volume.pk).status == "extending"
    assert quotas.get_usages(demo)["gigabytes"]["in_use"] == 2
    assert volume_host.extend_volume(volume.id, 2) == "available"
    assert Volume.objects.get(pk=volume.pk).size == 2

    snap = member_client.post(url(demo, "snapshots"), {"snapshot": {"volume_id": str(volume.uuid), "name": "s"}},
                              format="json")
    assert snap.status_code == 202, snap.content
    snapshot = snap.json()["snapshot"]
    assert snapshot["status"] == "creating" and snapshot["size"] == 2
    assert quotas.get_usages(demo)["snapshots"]["in_use"] == 1
    assert "snapshots" in error(member_client.delete(url(demo, f"volumes/{volume.uuid}")), 400, "badRequest")


def test_scheduler_picks_the_host_with_most_free_capacity(member_client, demo, volume_host_a, settings):
    settings.VOLUME_FILE_CAPACITY_GB = 20
    register("vol-b", settings)
    first = Volume.objects.get(uuid=create(member_client, demo, size=5)["id"])
    assert first.host == "vol-b"  # 20 GB free against 10
    second = Volume.objects.get(uuid=create(member_client, demo, size=8)["id"])
    assert second.host == "vol-b"  # 15 left there (the DB counts the first) against 10
    third = Volume.objects.get(uuid=create(member_client, demo, size=9)["id"])
    assert third.host == "vol-a"  # 7 left on vol-b
    no_room = create(member_client, demo, size=8)  # 1 and 7 left
    assert no_room["status"] == "error" and Volume.objects.get(uuid=no_room["id"]).host is None
    # a dead host gets nothing; no room anywhere: error, with Cinder's reason
    Service.objects.filter(binary="nova-volume").update(forced_down=True)
    body = create(member_client, demo, size=1)
    shown = member_client.get(url(demo, f"volumes/{body['id']}")).json()["volume"]
    assert shown["status"] == "error" and Volume.objects.get(uuid=body["id"]).host is None
    assert member_client.delete(url(demo, f"volumes/{body['id']}")).status_code == 202
    assert not Volume.objects.filter(uuid=body["id"]).exists()


def test_attach_refusals(member_client, member_account, demo, volume_host_a, settings):
    from compute import states

    user = member_account[0]
    server = make_instance(demo, user, host=HOST, vm_state=states.ACTIVE, task_state=None)
    building = make_instance(demo, user, host=HOST)
    body = create(member_client, demo)
    api = f"/compute/v2.1/servers/{server.uuid}/os-volume_attachments"
    attach = {"volumeAttachment": {"volumeId": body["id"]}}
    # creating: not available
    assert "available" in error(member_client.post(api, attach, format="json"), 400, "badRequest")
    Volume.objects.filter(uuid=body["id"]).update(status="available")
    error(member_client.post(f"/compute/v2.1/servers/{building.uuid}/os-volume_attachments", attach,
                             format="json"), 409, "conflictingRequest")
    # not attached: nothing to remove
    error(member_client.delete(f"{api}/{body['id']}"), 404, "itemNotFound")
    error(member_client.post(api, {"volumeAttachment": {}}, format="json"), 400, "badRequest")
    # a volume on another host than the server's, with the iSCSI export turned off
    settings.VOLUME_EXPORT = "none"
    Volume.objects.filter(uuid=body["id"]).update(host="vol-elsewhere")
    assert "iSCSI" in error(member_client.post(api, attach, format="json"), 400, "badRequest")
    assert member_client.get(api).json() == {"volumeAttachments": []}
    assert not VolumeAttachment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_never_exceed_the_quota(member_account, volume_host_a):
    from cloudproj.exceptions import OverQuota
    from cloudproj.testing.factories import Ctx
    from volumes.services import volumes as volume_service

    user, project, _ = member_account
    quotas.set_quota(project, "volumes", 3)
    results = []
    barrier = threading.Barrier(8)

    def worker():
        try:
            barrier.wait()
            volume_service.create_volume(Ctx(user, project), 1)
            results.append("ok")
        except OverQuota:
            results.append("over")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok"] * 3 + ["over"] * 5
    assert Volume.objects.count() == 3
    assert quotas.get_usages(project)["volumes"] == {"in_use": 3, "reserved": 0}


@pytest.mark.django_db(transaction=True)
def test_agent_reports_capacity_periodically(volume_host_a, settings):
    import time

    from cloudproj.host import periodic
    from volumes import agent_start

    VolumeHost.objects.filter(host=HOST).update(total_gb=1, free_gb=0)
    stopped = agent_start.start_reports(HOST, interval=0.05)
    try:
        deadline = time.monotonic() + 10
        while VolumeHost.objects.get(host=HOST).total_gb != 10:
            assert time.monotonic() < deadline, "no report"
            time.sleep(0.05)
        settings.VOLUME_DRIVER = "lvm"
        settings.VOLUME_GROUP = "cptvg-does-not-exist"
        while VolumeHost.objects.filter(host=HOST).exists():  # storage gone: not schedulable
            assert time.monotonic() < deadline + 10, "the broken host was kept"
            time.sleep(0.05)
    finally:
        stopped.set()
        periodic.stop(agent_start.reporter_key(HOST))


def test_admin_actions(member_client, admin_client, admin_account, demo, volume_host_a):
    body = create(member_client, demo)
    volume = Volume.objects.get(uuid=body["id"])
    mine = url(demo, f"volumes/{volume.uuid}/action")
    error(member_client.post(mine, {"os-force_delete": {}}, format="json"), 403, "forbidden")
    error(member_client.post(mine, {"os-reset_status": {"status": "available"}}, format="json"), 403, "forbidden")
    admin = url(admin_account[1], f"volumes/{volume.uuid}/action")
    # stuck in creating: an admin resets it, or force-deletes it
    error(admin_client.post(admin, {"os-reset_status": {"status": "in-use"}}, format="json"), 400, "badRequest")
    error(admin_client.post(admin, {"os-reset_status": {"status": "bogus"}}, format="json"), 400, "badRequest")
    assert admin_client.post(admin, {"os-reset_status": {"status": "error"}}, format="json").status_code == 202
    assert Volume.objects.get(pk=volume.pk).status == "error"
    assert admin_client.post(admin, {"os-force_delete": {}}, format="json").status_code == 202
    assert Volume.objects.get(pk=volume.pk).status == "deleting"
    volume_host.delete_volume(volume.id)
    assert not Volume.objects.filter(pk=volume.pk).exists()
    assert quotas.get_usages(demo)["volumes"]["in_use"] == 0


def test_swapping_a_volume_is_refused_after_nova_s_lookups(admin_client, member_client, member_account, demo,
                                                           volume_host_a):
    from compute import states

    server = make_instance(demo, member_account[0], host=HOST, vm_state=states.ACTIVE, task_state=None)
    old, new = create(member_client, demo), create(member_client, demo)
    api = f"/compute/v2.1/servers/{server.uuid}/os-volume_attachments"
    swap = {"volumeAttachment": {"volumeId": new["id"]}}
    missing = "00000000-0000-0000-0000-000000000000"
    error(member_client.put(f"{api}/{old['id']}", swap, format="json"), 403, "forbidden")  # admins only
    error(admin_client.put(f"{api}/{missing}", swap, format="json"), 404, "itemNotFound")
    error(admin_client.put(f"{api}/{old['id']}", swap, format="json"), 404, "itemNotFound")  # not attached
    VolumeAttachment.objects.create(volume=Volume.objects.get(uuid=old["id"]), instance_uuid=server.uuid,
                                    instance_host=HOST, device="/dev/vdb")
    error(admin_client.put(f"{api}/{old['id']}", {"volumeAttachment": {"volumeId": missing}}, format="json"),
          404, "itemNotFound")
    error(admin_client.put(f"{api}/{old['id']}", {"volumeAttachment": {}}, format="json"), 400, "badRequest")
    assert "not supported" in error(admin_client.put(f"{api}/{old['id']}", swap, format="json"), 400, "badRequest")
    assert VolumeAttachment.objects.get().volume.uuid == Volume.objects.get(uuid=old["id"]).uuid  # unchanged
