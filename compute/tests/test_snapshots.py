"""createImage: the API side (states, the queued private image, 409s) and the host side
run in-process on a real overlay file (libvirt's test driver: no domain, so no pause)."""
import subprocess

import pytest

from cloudproj.testing.servers import act, error, instance, make_active
from compute import states
from compute.services import host_resources, snapshot_host
from images.drivers import store
from images.models import Image

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path (every test here)."""


T = states.task


@pytest.fixture(autouse=True)
def test_driver(settings, monkeypatch):
    settings.LIBVIRT_URI = "test:///default"
    monkeypatch.setattr(host_resources, "_driver", None)


def test_create_image_queues_a_private_snapshot(member_client, member_account, server, image):
    row = make_active(server)
    resp = act(member_client, server, {"createImage": {"name": "snap", "metadata": {"purpose": "test"}}})
    assert resp.status_code == 202, resp.content
    image_id = resp["Location"].rsplit("/", 1)[1]
    snap = Image.objects.get(id=image_id)
    assert snap.status == "queued" and snap.visibility == "private" and snap.owner_id == member_account[1].id
    assert snap.properties["image_type"] == "snapshot" and snap.properties["instance_uuid"] == server
    assert snap.properties["base_image_ref"] == str(image.id) and snap.properties["purpose"] == "test"
    assert (snap.disk_format, snap.container_format) == ("qcow2", "bare")
    assert instance(server).task_state == T.IMAGE_SNAPSHOT
    from compute.models import InstanceAction

    assert InstanceAction.objects.filter(instance=row, action="createImage").exists()
    # one task at a time
    error(act(member_client, server, {"createImage": {"name": "again"}}), 409)
    assert row.host == "host-a"


def test_create_image_validation_and_state(member_client, other_client, server):
    error(act(member_client, server, {"createImage": {"name": "b"}}), 409)  # still building
    make_active(server)
    error(act(member_client, server, {"createImage": {}}), 400)
    error(act(member_client, server, {"createImage": {"name": "x", "bogus": 1}}), 400)
    error(act(member_client, server, {"createImage": {"name": "x", "metadata": {"a": 1}}}), 400)
    error(act(other_client, server, {"createImage": {"name": "x"}}), 404)
    assert not Image.objects.filter(name="x").exists()


def show_status(client, server_id):
    return client.get(f"/compute/v2.1/servers/{server_id}").json()["server"]["status"]


def _overlay_with_data(tmp_path, row):
    base = tmp_path / "base.raw"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(base), "8M"], check=True)
    disk = host_resources.disk_path(row)
    disk.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(base), str(disk)], check=True)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x42 1M 64k", str(disk)], check=True,
                   capture_output=True)
    return disk


def test_host_side_flattens_and_uploads(member_client, server, tmp_path, monkeypatch):
    row = make_active(server)
    resp = act(member_client, server, {"createImage": {"name": "snap"}})
    image_id = resp["Location"].rsplit("/", 1)[1]
    _overlay_with_data(tmp_path, row)
    seen = []
    real_upload = snapshot_host.image_service.upload

    def upload(image, source):
        seen.append((instance(server).task_state, show_status(member_client, server)))
        return real_upload(image, source)

    monkeypatch.setattr(snapshot_host.image_service, "upload", upload)
    assert snapshot_host.run_snapshot(server, "-", image_id) is True
    assert seen == [(T.IMAGE_UPLOADING, "ACTIVE")]
    snap = Image.objects.get(id=image_id)
    assert snap.status == "active" and snap.size > 0 and snap.os_hash_algo == "sha256"
    stored = store.location(snap.id)
    info = subprocess.run(["qemu-img", "info", "--output=json", str(stored)], capture_output=True, text=True,
                          check=True).stdout
    assert '"backing-filename"' not in info  # standalone
    check = subprocess.run(["qemu-io", "-f", "qcow2", "-c", "read -P 0x42 1M 64k", str(stored)],
                           capture_output=True, text=True)
    assert check.returncode == 0 and "Pattern verification failed" not in check.stdout
    assert instance(server).task_state is None and instance(server).vm_state == states.ACTIVE
    assert not list(host_resources.instance_dir(row).glob("snapshot-*"))
    # a re-delivered message does nothing
    assert snapshot_host.run_snapshot(server, "-", image_id) is False
    listed = member_client.get(f"/compute/v2.1/images/{image_id}").json()["image"]
    assert listed["server"]["id"] == server and listed["metadata"]["image_type"] == "snapshot"


def test_failed_snapshot_kills_the_image_and_keeps_the_instance(member_client, server):
    make_active(server)
    image_id = act(member_client, server, {"createImage": {"name": "snap"}})["Location"].rsplit("/", 1)[1]
    assert snapshot_host.run_snapshot(server, "-", image_id) is False  # there is no disk to copy
    assert Image.objects.get(id=image_id).status == "killed"
    row = instance(server)
    assert row.task_state is None and row.vm_state == states.ACTIVE
    from compute.models import InstanceFault

    assert InstanceFault.objects.filter(instance=row).exists()


def test_agent_restart_settles_interrupted_snapshots(member_client, server):
    row = make_active(server, host="cptimg-a")
    image_id = act(member_client, server, {"createImage": {"name": "snap"}})["Location"].rsplit("/", 1)[1]
    from compute.services.instances import update_state

    update_state(row, task_state=T.IMAGE_UPLOADING)
    Image.objects.filter(id=image_id).update(status="saving")
    leftover = host_resources.instance_dir(row) / f"snapshot-{image_id}.part"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"half")
    assert snapshot_host.recover_interrupted("cptimg-b") == []
    assert snapshot_host.recover_interrupted("cptimg-a") == [server]
    assert instance(server).task_state is None and instance(server).vm_state == states.ACTIVE
    assert Image.objects.get(id=image_id).status == "killed" and not leftover.exists()
    assert act(member_client, server, {"createImage": {"name": "again"}}).status_code == 202


def test_create_image_metadata_may_set_the_image_type(member_client, server):
    make_active(server)
    resp = act(member_client, server, {"createImage": {"name": "typed", "metadata": {
        "image_type": "test", "instance_uuid": "not-mine"}}})
    snap = Image.objects.get(id=resp["Location"].rsplit("/", 1)[1])
    # as Nova: the caller's image_type wins (tempest test_create_delete_image); the origin does not change
    assert (snap.properties["image_type"], snap.properties["instance_uuid"]) == ("test", server)


def test_create_backup_keeps_the_newest_backups_of_the_rotation(member_client, other_client, server, tmp_path):
    from compute.models import InstanceAction

    row = make_active(server)
    error(act(member_client, server, {"createBackup": {"name": "b", "backup_type": "daily"}}), 400)
    error(act(member_client, server, {"createBackup": {"name": "b", "backup_type": "daily", "rotation": -1}}), 400)
    error(act(member_client, server, {"createBackup": {"name": "b", "backup_type": "", "rotation": 1}}), 400)
    error(act(other_client, server, {"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}}), 404)
    _overlay_with_data(tmp_path, row)
    made = []
    for n, backup_type in ((1, "daily"), (2, "daily"), (3, "weekly"), (4, "daily")):
        resp = act(member_client, server, {"createBackup": {"name": f"backup-{n}", "backup_type": backup_type,
                                                            "rotation": "2", "metadata": {"k": "v"}}})
        assert resp.status_code == 202, resp.content
        image_id = resp["Location"].rsplit("/", 1)[1]
        assert instance(server).task_state == T.IMAGE_BACKUP
        assert snapshot_host.run_snapshot(server, "-", image_id, 2) is True
        made.append(image_id)
        assert instance(server).task_state is None
    first = Image.all_objects.get(id=made[0])
    assert first.status == "deleted"  # the third daily backup rotated the first one out
    kept = Image.objects.filter(properties__instance_uuid=server).order_by("created_at")
    assert [i.name for i in kept] == ["backup-2", "backup-3", "backup-4"]
    assert all(i.status == "active" for i in kept)
    props = Image.objects.get(id=made[1]).properties
    assert (props["image_type"], props["backup_type"], props["k"]) == ("backup", "daily", "v")
    assert InstanceAction.objects.filter(instance=row, action="createBackup").count() == 4
