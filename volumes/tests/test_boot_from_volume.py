"""Boot from volume (block_device_mapping_v2 with destination_type volume) through the Compute
API: the root volume created from the image or reserved, attached by the server's host as vda,
shown on the server, kept or deleted with it. No agent runs here: the tests do the hosts' part
by calling the host services (the file volume driver under tmp_path, libvirt's test driver for
the domain), as the agents would."""
import pytest

from cloudproj.exceptions import Invalid
from cloudproj.testing.servers import API, boot, error, show
from cloudproj.testing.volumes import VOLUME_HOST_A as HOST
from cloudproj.testing.volumes import create, url
from compute.models import Instance
from compute.services import host_resources as hr
from compute.virt.domain_xml import build_domain_xml
from volumes.models import Volume, VolumeAttachment
from volumes.services import attachments as attachment_service
from volumes.services import boot_host
from volumes.services import host as volume_host

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(member_account):
    return member_account[1]


@pytest.fixture
def bfv(paths, image, volume_host_a):
    return image


def from_image(image, size=1, delete=True, **extra):
    return [{"boot_index": 0, "uuid": str(image.id), "source_type": "image", "destination_type": "volume",
             "volume_size": size, "delete_on_termination": delete, **extra}]


def from_volume(volume_id, delete=False):
    return [{"boot_index": 0, "uuid": volume_id, "source_type": "volume", "destination_type": "volume",
             "delete_on_termination": delete}]


def _boot_volume(member_client, bdm, name="bfv", status=202, **server):
    body = {"server": {"name": name, "flavorRef": "1", "imageRef": "", "block_device_mapping_v2": bdm, **server}}
    response = member_client.post(f"{API}/servers", body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def _on_host(server_id, host=HOST):
    """What the scheduler and the host's disk step do: the server placed on `host`, its root
    volume attached there."""
    instance = Instance.objects.get(uuid=server_id)
    Instance.objects.filter(pk=instance.pk).update(host=host, node=host)
    instance.refresh_from_db()
    return instance, hr.prepare_disk(instance)


def test_boot_from_a_new_volume_made_of_the_image(member_client, demo, bfv, settings):
    server = _boot_volume(member_client, from_image(bfv, size=2))["server"]
    instance = Instance.objects.get(uuid=server["id"])
    volume = Volume.objects.get()
    attachment = VolumeAttachment.objects.get()
    assert (volume.size, volume.status, volume.bootable, volume.name) == (2, "creating", True, "bfv-root")
    assert (attachment.instance_uuid, attachment.device, attachment.boot_index) == (instance.uuid, "/dev/vda", 0)
    assert attachment.delete_on_termination is True
    assert instance.image_ref == ""
    shown = show(member_client, server["id"])
    assert shown["image"] == ""  # as Nova shows a volume-backed server
    assert shown["os-extended-volumes:volumes_attached"] == [{"id": str(volume.uuid)}]
    at_2_3 = member_client.get(f"{API}/servers/{server['id']}", HTTP_OPENSTACK_API_VERSION="compute 2.3").json()
    assert at_2_3["server"]["os-extended-volumes:volumes_attached"] == [
        {"id": str(volume.uuid), "delete_on_termination": True}]

    # the volume host writes the image: the volume goes on to its server, not to the free pool
    assert volume_host.create_volume(volume.id) == "attaching"
    instance, paths = _on_host(server["id"])
    volume.refresh_from_db()
    assert volume.status == "in-use"
    volume_file = settings.VOLUMES_PATH / f"{volume.storage_name}.raw"
    assert paths["root_volume"] == str(volume_file)
    assert volume_file.read_bytes()[:4096] == b"x" * 4096  # the image, written into the volume
    assert not hr.disk_path(instance).exists()  # no local overlay

    spec = hr.build_spec(instance)
    assert spec.root_volume["path"] == str(volume_file) and spec.volumes == []
    xml = build_domain_xml(spec)
    assert f"<source file=\"{volume_file}\" />" in xml and "<target dev=\"vda\" bus=\"virtio\" />" in xml
    assert "disk.qcow2" not in xml and str(hr.disk_path(instance)) not in xml

    listed = member_client.get(url(demo, f"volumes/{volume.uuid}")).json()["volume"]
    assert listed["status"] == "in-use"
    assert [a["server_id"] for a in listed["attachments"]] == [server["id"]]

    # delete_on_termination: the volume goes with the server
    attachment_service.on_instance_deleted(instance)
    volume.refresh_from_db()
    assert volume.status == "deleting" and not VolumeAttachment.objects.exists()


def test_boot_from_an_existing_volume_kept_on_delete(member_client, demo, bfv):
    body = create(member_client, demo, name="root", imageRef=str(bfv.id))
    volume = Volume.objects.get(uuid=body["id"])
    volume_host.create_volume(volume.id)
    volume.refresh_from_db()
    assert volume.status == "available"

    server = _boot_volume(member_client, from_volume(str(volume.uuid)))["server"]
    volume.refresh_from_db()
    assert volume.status == "attaching"
    # the same volume cannot be another server's root disk nor attached elsewhere meanwhile
    message = error(member_client.post(f"{API}/servers", {"server": {
        "name": "second", "flavorRef": "1", "block_device_mapping_v2": from_volume(str(volume.uuid))}},
        format="json"), 400)
    assert "status must be 'available'" in message

    instance, _paths = _on_host(server["id"])
    volume.refresh_from_db()
    assert volume.status == "in-use"
    # re-delivered disk step: nothing changes
    assert hr.prepare_disk(instance)["root_volume"] == boot_host.root_volume(instance)["path"]

    Instance.objects.filter(pk=instance.pk).update(vm_state="active", task_state=None)
    refused = member_client.delete(f"{API}/servers/{server['id']}/os-volume_attachments/{volume.uuid}")
    assert "boots from it" in error(refused, 400)

    attachment_service.on_instance_deleted(instance)
    volume.refresh_from_db()
    assert volume.status == "available"  # delete_on_termination false: kept, free for the next server


def test_kernel_and_ramdisk_follow_the_volume(member_client, demo, bfv, paths):
    """A volume made from a UEC image (kernel_id/ramdisk_id) boots with that kernel later."""
    bfv.properties = {**(bfv.properties or {}), "kernel_id": str(bfv.id), "ramdisk_id": str(bfv.id)}
    bfv.save(update_fields=["properties"])
    body = create(member_client, demo, name="uec", imageRef=str(bfv.id))
    volume = Volume.objects.get(uuid=body["id"])
    assert volume.image_metadata["kernel_id"] == str(bfv.id)
    volume_host.create_volume(volume.id)
    server = _boot_volume(member_client, from_volume(str(volume.uuid)))["server"]
    instance = Instance.objects.get(uuid=server["id"])
    assert (instance.image_ref, instance.kernel_id, instance.ramdisk_id) == ("", str(bfv.id), str(bfv.id))


def test_root_volume_in_error_fails_the_build_step(member_client, bfv, settings):
    settings.BOOT_VOLUME_TIMEOUT = 0.1
    server = _boot_volume(member_client, from_image(bfv))["server"]
    volume = Volume.objects.get()
    Volume.objects.filter(pk=volume.pk).update(status="error", error_message="disk full")
    with pytest.raises(Invalid, match=r"did not become ready \(status error: disk full\)"):
        _on_host(server["id"])
    Volume.objects.filter(pk=volume.pk).update(status="creating")
    with pytest.raises(Invalid, match=r"still being written after 0.1s"):
        _on_host(server["id"])


@pytest.mark.parametrize("bdm, message", [
    (lambda image: from_image(image, size=None), "non-zero size"),
    (lambda image: from_image(image, size=0), "non-zero size"),
    (lambda image: from_image(image, size="big"), "volume_size"),
    (lambda image: from_image(image, delete="maybe"), "delete_on_termination"),
    (lambda image: from_image(image, boot_index=1), "beyond the root disk"),
    (lambda image: [*from_image(image), {"boot_index": 1, "uuid": str(image.id), "source_type": "blank",
                                         "destination_type": "volume", "volume_size": 1}], "beyond the root disk"),
    (lambda image: [{"boot_index": 0, "source_type": "volume", "destination_type": "volume"}], "'uuid' is required"),
    (lambda image: [{"boot_index": 0, "uuid": str(image.id), "source_type": "snapshot",
                     "destination_type": "volume"}], "Block Device Mapping is Invalid"),
    (lambda image: from_volume("2f4d3a5e-0000-4000-8000-000000000000"), "failed to get volume"),
    (lambda image: from_volume("not-a-uuid"), "failed to get volume"),
    (lambda image: "nope", "must be a list"),
])
def test_bad_mappings_are_400(member_client, bfv, bdm, message):
    assert message in error(member_client.post(f"{API}/servers", {"server": {
        "name": "bad", "flavorRef": "1", "block_device_mapping_v2": bdm(bfv)}}, format="json"), 400)
    assert not Instance.objects.exists() and not Volume.objects.exists()


def test_volume_smaller_than_the_image_is_400(member_client, bfv):
    bfv.min_disk = 3
    bfv.save(update_fields=["min_disk"])
    message = error(member_client.post(f"{API}/servers", {"server": {
        "name": "small", "flavorRef": "1", "block_device_mapping_v2": from_image(bfv, size=1)}}, format="json"), 400)
    assert "cannot be smaller than the image size 3GB" in message
    assert not Instance.objects.exists() and not Volume.objects.exists()


def test_one_volume_cannot_boot_several_servers(member_client, demo, bfv):
    body = create(member_client, demo, name="root")
    volume_host.create_volume(Volume.objects.get(uuid=body["id"]).id)
    message = error(member_client.post(f"{API}/servers", {"server": {
        "name": "many", "flavorRef": "1", "min_count": 2, "block_device_mapping_v2": from_volume(body["id"])}},
        format="json"), 400)
    assert "multiple instances" in message
    assert Volume.objects.get().status == "available" and not Instance.objects.exists()


def test_several_servers_get_a_volume_each(member_client, bfv):
    _boot_volume(member_client, from_image(bfv), min_count=2, max_count=2)
    assert sorted(Volume.objects.values_list("name", flat=True)) == ["bfv-root", "bfv-root"]
    assert VolumeAttachment.objects.values("instance_uuid").distinct().count() == 2


def test_actions_on_local_disks_are_refused_for_volume_backed_servers(member_client, bfv):
    server = _boot_volume(member_client, from_image(bfv))["server"]
    Instance.objects.filter(uuid=server["id"]).update(vm_state="active", task_state=None, host=HOST, node=HOST)
    for action, body in (("rebuild", {"imageRef": str(bfv.id)}), ("resize", {"flavorRef": "2"}),
                         ("createImage", {"name": "snap"}), ("rescue", {}), ("shelve", None)):
        response = member_client.post(f"{API}/servers/{server['id']}/action", {action: body}, format="json")
        assert "boots from a volume" in error(response, 400), action


def test_image_boot_still_takes_the_local_disk(member_client, bfv):
    """`openstack server create --image` sends the image as a local root mapping: unchanged."""
    local = [{"boot_index": 0, "uuid": str(bfv.id), "source_type": "image", "destination_type": "local"}]
    server = boot(member_client, bfv, "local", block_device_mapping_v2=local)["server"]
    assert Instance.objects.get(uuid=server["id"]).image_ref == str(bfv.id)
    assert not Volume.objects.exists()
