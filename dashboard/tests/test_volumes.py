"""Volumes panel: create (empty or from a snapshot), extend, snapshot, delete, attach/detach
refusals, snapshots list and delete. No agent runs here: like volumes/tests/test_volumes_api.py
the tests do the volume host's part by calling volumes.services.host with the file driver."""
from django.utils import timezone

from identity.services import quotas
from cloudproj.testing.volumes import VOLUME_HOST_A as HOST
from volumes.models import Snapshot, Volume, VolumeAttachment
from volumes.services import host as volume_host


def create(client, **fields):
    return client.post("/dashboard/volumes/", {"name": "", "size": "", "snapshot": "", **fields})


def row_of(page: str, volume) -> str:
    return page.split(f'id="volume-{volume.uuid}"')[1].split("</tr>")[0]


def test_create_extend_snapshot_delete(member, volume_host_a, settings):
    client = member["client"]
    assert create(client, name="data", size="1").status_code == 302
    volume = Volume.objects.get(name="data")
    page = client.get("/dashboard/volumes/").content.decode()
    assert "Creating volume data (1 GB)." in page and "creating" in row_of(page, volume)
    assert 'hx-trigger="every' in page  # a transitional status: the lists reload themselves
    assert volume_host.create_volume(volume.id) == "available"
    page = client.get("/dashboard/volumes/").content.decode()
    assert 'hx-trigger="every' not in page and "available" in row_of(page, volume)

    assert client.post(f"/dashboard/volumes/{volume.uuid}/extend/", {"new_size": "2"}).status_code == 302
    assert Volume.objects.get(pk=volume.pk).status == "extending"
    assert volume_host.extend_volume(volume.id, 2) == "available"
    assert (settings.VOLUMES_PATH / f"{volume.storage_name}.raw").stat().st_size == 2 * 1024 ** 3

    assert client.post(f"/dashboard/volumes/{volume.uuid}/snapshot/", {"name": "snap1"}).status_code == 302
    snapshot = Snapshot.objects.get(name="snap1")
    assert volume_host.create_snapshot(snapshot.id) == "available"
    page = client.get("/dashboard/volumes/").content.decode()
    assert f'id="snapshot-{snapshot.uuid}"' in page and "snap1 (2 GB)" in page  # offered in the create form

    # from the snapshot, taking its size
    assert create(client, name="copy", snapshot=str(snapshot.uuid)).status_code == 302
    copy = Volume.objects.get(name="copy")
    assert copy.size == 2 and copy.snapshot == snapshot

    # a volume with snapshots cannot go; the snapshot first
    response = client.post(f"/dashboard/volumes/{volume.uuid}/delete/", follow=True)
    assert b"still has 1 dependent snapshots" in response.content
    assert client.post(f"/dashboard/volumes/snapshots/{snapshot.uuid}/delete/").status_code == 302
    assert volume_host.delete_snapshot(snapshot.id) == "deleted"
    assert client.post(f"/dashboard/volumes/{volume.uuid}/delete/").status_code == 302
    assert volume_host.delete_volume(volume.id) == "deleted"
    assert not Volume.objects.filter(pk=volume.pk).exists()
    assert f'id="volume-{volume.uuid}"' not in client.get("/dashboard/volumes/").content.decode()


def test_bad_input_is_a_message_and_writes_nothing(member, volume_host_a):
    client = member["client"]
    for size in ("0", "-3", "abc"):
        response = create(client, name="bad", size=size)
        assert response.status_code == 400 and b'class="field-error"' in response.content
    response = create(client, name="nosize")
    assert response.status_code == 400 and b"Give a size, or choose a snapshot." in response.content
    quotas.set_quota(member["project"], "gigabytes", 5)
    response = create(client, name="big", size="6")
    assert response.status_code == 400 and b"Requested volume or snapshot exceeds allowed gigabytes quota" in response.content
    assert b"VolumeSizeExceedsAvailableQuota" not in response.content  # the API's class name is not for people
    assert not Volume.objects.exists()
    create(client, name="v", size="1")
    volume = Volume.objects.get(name="v")
    response = client.post(f"/dashboard/volumes/{volume.uuid}/extend/", {"new_size": "1"}, follow=True)
    assert b"Volume status must be available to extend" in response.content  # still creating
    volume_host.create_volume(volume.id)
    response = client.post(f"/dashboard/volumes/{volume.uuid}/extend/", {"new_size": "1"}, follow=True)
    assert b"New size for extend must be greater than current size" in response.content
    response = client.post(f"/dashboard/volumes/{volume.uuid}/extend/", {"new_size": "x"}, follow=True)
    assert b"new_size must be an integer" in response.content
    assert Volume.objects.get(pk=volume.pk).size == 1 and Volume.objects.get(pk=volume.pk).status == "available"


def test_attach_refusals_and_attached_column(member, make_instance, volume_host_a, settings):
    client = member["client"]
    server = make_instance(member["project"], member["user"], name="web", host=HOST)
    create(client, name="v", size="1")
    volume = Volume.objects.get(name="v")
    volume_host.create_volume(volume.id)
    page = client.get("/dashboard/volumes/").content.decode()
    attach_form = page.split('id="attach-form"')[1].split("</form>")[0]
    assert f'<option value="{server.uuid}">web</option>' in attach_form and f'value="{volume.uuid}"' in attach_form
    settings.VOLUME_EXPORT = "none"
    Volume.objects.filter(pk=volume.pk).update(host="vol-elsewhere")
    response = client.post("/dashboard/volumes/attach/", {"volume": str(volume.uuid), "instance": str(server.uuid)},
                           follow=True)
    assert b"exporting volumes to other hosts (iSCSI) is turned off" in response.content
    assert not VolumeAttachment.objects.exists() and Volume.objects.get(pk=volume.pk).status == "available"
    response = client.post(f"/dashboard/volumes/{volume.uuid}/detach/", follow=True)
    assert b"is not attached" in response.content
    assert client.post("/dashboard/volumes/attach/", {"volume": str(volume.uuid), "instance": "nope"}).status_code == 404
    # attached (as the host would have marked it): the table names the instance and offers detach
    VolumeAttachment.objects.create(volume=volume, instance_uuid=server.uuid, instance_host=HOST, device="/dev/vdb",
                                    attached_at=timezone.now())
    Volume.objects.filter(pk=volume.pk).update(status="in-use")
    row = row_of(client.get("/dashboard/volumes/").content.decode(), volume)
    assert f'<a href="/dashboard/instances/{server.uuid}/">web</a> on /dev/vdb' in row and "Detach" in row
    assert 'id="attach-form"' not in client.get("/dashboard/volumes/").content.decode()  # nothing to attach


def test_another_projects_volumes_are_invisible(member, other, volume_host_a, make_instance):
    create(other["client"], name="theirs", size="1")
    volume = Volume.objects.get(name="theirs")
    volume_host.create_volume(volume.id)
    other["client"].post(f"/dashboard/volumes/{volume.uuid}/snapshot/", {"name": "their-snap"})
    snapshot = Snapshot.objects.get(name="their-snap")
    client = member["client"]
    page = client.get("/dashboard/volumes/").content.decode()
    assert "theirs" not in page and "their-snap" not in page
    mine = make_instance(member["project"], member["user"], host=HOST)
    for action, data in (("extend", {"new_size": "5"}), ("detach", {}), ("snapshot", {"name": "x"}), ("delete", {})):
        assert client.post(f"/dashboard/volumes/{volume.uuid}/{action}/", data).status_code == 404, action
    response = client.post("/dashboard/volumes/attach/", {"volume": str(volume.uuid), "instance": str(mine.uuid)})
    assert response.status_code == 404
    assert client.post(f"/dashboard/volumes/snapshots/{snapshot.uuid}/delete/").status_code == 404
    response = create(client, name="stolen", snapshot=str(snapshot.uuid))
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    volume.refresh_from_db()
    assert volume.status == "available" and volume.size == 1 and Snapshot.objects.get(pk=snapshot.pk).status == "creating"
    assert list(Volume.objects.values_list("name", flat=True)) == ["theirs"]


def test_volume_list_queries_do_not_grow(member, make_instance, volume_host_a, django_assert_max_num_queries):
    def add(n):
        for _ in range(n):
            volume = Volume.objects.create(name=f"v{Volume.objects.count()}", size=1, availability_zone="nova",
                                           project_id=member["project"].id, user_id=member["user"].id,
                                           host=HOST, status="in-use")
            server = make_instance(member["project"], member["user"])
            VolumeAttachment.objects.create(volume=volume, instance_uuid=server.uuid, instance_host="host-a")
            Snapshot.objects.create(volume=volume, size=1, project_id=member["project"].id,
                                    user_id=member["user"].id, host=HOST, status="available")

    add(2)
    with django_assert_max_num_queries(20) as few:
        member["client"].get("/dashboard/volumes/")
    add(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = member["client"].get("/dashboard/volumes/").content.decode()
    assert page.count('<tr id="volume-') == 32 and page.count('<tr id="snapshot-') == 32
