"""Rename, rebuild and snapshot from the instance's page, through the API's services."""
from unittest import mock

import pytest

from compute.models import Instance, Service
from compute.services import hosts
from images.models import Image
from images.services.registry import register_image


@pytest.fixture
def up_host(db):
    from django.utils import timezone

    service = hosts.register_service("host-a", "nova-compute")
    Service.objects.filter(pk=service.pk).update(last_seen_up=timezone.now())


@pytest.fixture
def image(member, tmp_path, settings):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * 65536)
    return register_image(disk, "base-image", disk_format="raw", visibility="public", owner=member["project"])


def test_rename(member, make_instance):
    instance = make_instance(member["project"], member["user"], name="old")
    response = member["client"].post(f"/dashboard/instances/{instance.uuid}/rename/", {"name": "new"})
    assert response.status_code == 302
    assert Instance.objects.get(pk=instance.pk).display_name == "new"
    page = member["client"].get(response["Location"]).content.decode()
    assert "old renamed to new." in page
    member["client"].post(f"/dashboard/instances/{instance.uuid}/rename/", {"name": " padded "})
    assert "leading or trailing whitespace" in member["client"].get(response["Location"]).content.decode()


def test_rebuild_and_snapshot_go_to_the_host(member, make_instance, image, up_host,
                                             django_capture_on_commit_callbacks):
    instance = make_instance(member["project"], member["user"], name="rb", image_ref=str(image.id))
    client = member["client"]
    assert "base-image" in client.get(f"/dashboard/instances/{instance.uuid}/").content.decode()
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        client.post(f"/dashboard/instances/{instance.uuid}/rebuild/", {"image": str(image.id)})
    assert Instance.objects.get(pk=instance.pk).task_state == "rebuilding"
    assert send.call_args.args[0] == "compute.instance_action"
    Instance.objects.filter(pk=instance.pk).update(task_state=None)
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/dashboard/instances/{instance.uuid}/snapshot/", {"name": "snap-1"})
    assert "Snapshot snap-1 of rb requested" in client.get(response["Location"]).content.decode()
    snap = Image.objects.get(name="snap-1")
    assert snap.owner_id == member["project"].id and snap.visibility == "private"
    assert Instance.objects.get(pk=instance.pk).task_state == "image_snapshot"


def test_a_state_that_refuses_is_a_message(member, make_instance, image, up_host):
    instance = make_instance(member["project"], member["user"], name="busy", task_state="rebooting")
    response = member["client"].post(f"/dashboard/instances/{instance.uuid}/snapshot/", {"name": "s"})
    assert "busy: Cannot &#x27;create_image&#x27; instance" in member["client"].get(response["Location"]).content.decode()
    assert not Image.objects.filter(name="s").exists()


def test_another_projects_instance_is_a_404(member, other, make_instance, image):
    theirs = make_instance(other["project"], other["user"], name="theirs")
    for action, data in (("rename", {"name": "x"}), ("rebuild", {"image": str(image.id)}), ("snapshot", {"name": "x"})):
        assert member["client"].post(f"/dashboard/instances/{theirs.uuid}/{action}/", data).status_code == 404
    assert Instance.objects.get(pk=theirs.pk).display_name == "theirs"


def test_a_reader_may_not(make_account, make_instance):
    from cloudproj.testing.clients import logged_in

    user, project, _ = make_account("demo", "reader", username="demo-reader")
    instance = make_instance(project, user, name="ro")
    response = logged_in("demo-reader").post(f"/dashboard/instances/{instance.uuid}/rename/", {"name": "x"})
    assert response.status_code == 403


def test_edit_security_groups(member, make_instance, django_capture_on_commit_callbacks):
    from secgroups.services.groups import create_group, ensure_default
    from secgroups.services.membership import join

    project = member["project"]
    default = ensure_default(project.id)
    create_group(project.id, "web", "http")
    instance = make_instance(project, member["user"], name="sg", security_groups=["default"])
    join([instance], [default])
    client = member["client"]
    page = client.get(f"/dashboard/instances/{instance.uuid}/").content.decode()
    assert 'aria-label="Remove from security group default"' in page and "<option>web</option>" in page
    path = f"/dashboard/instances/{instance.uuid}/security-groups/"
    with mock.patch("secgroups.services.refresh.send"):
        client.post(path, {"change": "add", "name": "web"})
        client.post(path, {"change": "remove", "name": "default"})
    page = client.get(f"/dashboard/instances/{instance.uuid}/").content.decode()
    assert "sg removed from security group default." in page
    assert sorted(Instance.objects.get(pk=instance.pk).security_groups) == ["web"]
    with mock.patch("secgroups.services.refresh.send"):
        client.post(path, {"change": "add", "name": "nope"})
    assert "nope" in client.get(f"/dashboard/instances/{instance.uuid}/").content.decode()


def test_attach_and_detach_a_volume_through_the_hosts(member, other, make_instance):
    from volumes.models import Volume, VolumeAttachment

    instance = make_instance(member["project"], member["user"], name="vm")
    volume = Volume.objects.create(name="data", size=1, availability_zone="nova", status="available",
                                   project=member["project"], user=member["user"], host="host-a")
    theirs = Volume.objects.create(name="theirs", size=1, availability_zone="nova", status="available",
                                   project=other["project"], user=other["user"], host="host-a")
    client = member["client"]
    page = client.get(f"/dashboard/instances/{instance.uuid}/").content.decode()
    assert "data (1 GB)" in page and "theirs" not in page
    path = f"/dashboard/instances/{instance.uuid}/volumes/"
    with mock.patch("volumes.services.attachments.rpc.call") as call:
        client.post(path, {"change": "attach", "volume": str(volume.uuid)})
    assert call.call_args.args[:2] == ("host-a", "volumes.attach_on_host")
    assert VolumeAttachment.objects.filter(volume=volume, instance_uuid=instance.uuid).exists()
    assert "Volume data attached to vm." in client.get(f"/dashboard/instances/{instance.uuid}/").content.decode()
    Volume.objects.filter(pk=volume.pk).update(status="in-use")
    with mock.patch("volumes.services.attachments.rpc.call") as call:
        client.post(path, {"change": "detach", "volume": str(volume.uuid)})
    assert call.call_args.args[:2] == ("host-a", "volumes.detach_on_host")
    with mock.patch("volumes.services.attachments.rpc.call") as call:
        client.post(path, {"change": "attach", "volume": str(theirs.uuid)})
    assert not call.called
    assert f"Volume {theirs.uuid} could not be found." in client.get(
        f"/dashboard/instances/{instance.uuid}/").content.decode()
