"""Volumes and snapshots through the real `openstack` client, with a real volume host agent
(file driver) doing the storage work on its `volume.<host>` queue."""
import pytest

from identity.services import quotas
from volumes.models import Volume

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_status(cloud, osc, kind, name, status, timeout=30):
    def ready():
        shown = osc(kind, "show", name) if kind == "volume" else osc("volume", "snapshot", "show", name)
        if shown["status"] == "error":
            raise AssertionError(f"{kind} {name} went to error\n{cloud.logs()}")
        return shown if shown["status"] == status else None

    return cloud.wait(ready, timeout, f"{kind} {name} to be {status}", interval=0.5)


def test_volume_create_list_show_extend_delete(osc, volume_cloud, admin_account):
    project = admin_account[1]
    created = osc("volume", "create", "--size", "1", "--description", "first", "v1")
    assert created["name"] == "v1" and created["size"] == 1
    shown = wait_status(volume_cloud, osc, "volume", "v1", "available")
    assert shown["description"] == "first" and shown["availability_zone"] == "nova"
    volume = Volume.objects.get(uuid=shown["id"])
    path = volume_cloud.volumes_path / f"{volume.storage_name}.raw"
    assert volume.host == "vol-host" and path.stat().st_size == 1024 ** 3
    assert volume.ec2_id == "vol-%08x" % volume.id

    listed = osc("volume", "list")
    assert [(row["Name"], row["Status"], row["Size"]) for row in listed] == [("v1", "available", 1)]
    usage = quotas.get_usages(project)
    assert (usage["volumes"]["in_use"], usage["gigabytes"]["in_use"]) == (1, 1)

    osc("volume", "set", "--size", "2", "--name", "v1b", "v1", raw=True)
    shown = wait_status(volume_cloud, osc, "volume", "v1b", "available")
    assert shown["size"] == 2 and path.stat().st_size == 2 * 1024 ** 3
    assert quotas.get_usages(project)["gigabytes"]["in_use"] == 2

    osc("volume", "delete", "v1b", raw=True)
    volume_cloud.wait(lambda: not path.exists(), 30, "the volume's file to go")
    volume_cloud.wait(lambda: Volume.objects.filter(pk=volume.pk).count() == 0, 30, "the volume row to go")
    assert osc("volume", "list") == []
    usage = quotas.get_usages(project)
    assert (usage["volumes"]["in_use"], usage["gigabytes"]["in_use"]) == (0, 0)
    assert Volume.all_objects.get(pk=volume.pk).status == "deleted"


def test_snapshot_and_volume_from_snapshot(osc, volume_cloud, admin_account):
    project = admin_account[1]
    osc("volume", "create", "--size", "1", "src")
    wait_status(volume_cloud, osc, "volume", "src", "available")
    source = Volume.objects.get(name="src")
    source_path = volume_cloud.volumes_path / f"{source.storage_name}.raw"
    with open(source_path, "r+b") as disk:
        disk.write(b"CLOUDPROJ-DISK snapshot-marker")

    snap = osc("volume", "snapshot", "create", "--volume", "src", "s1")
    assert snap["name"] == "s1"
    wait_status(volume_cloud, osc, "snapshot", "s1", "available")
    assert [row["Name"] for row in osc("volume", "snapshot", "list")] == ["s1"]
    usage = quotas.get_usages(project)
    assert (usage["snapshots"]["in_use"], usage["gigabytes"]["in_use"]) == (1, 2)

    # a volume with snapshots cannot go
    refused = osc("volume", "delete", "src", check=False)
    assert refused.returncode != 0

    osc("volume", "create", "--snapshot", "s1", "--size", "2", "copy")
    shown = wait_status(volume_cloud, osc, "volume", "copy", "available")
    assert shown["size"] == 2 and shown["snapshot_id"] == snap["id"]
    copy = Volume.objects.get(name="copy")
    copy_path = volume_cloud.volumes_path / f"{copy.storage_name}.raw"
    assert copy_path.read_bytes()[:30] == b"CLOUDPROJ-DISK snapshot-marker"
    assert copy_path.stat().st_size == 2 * 1024 ** 3

    osc("volume", "snapshot", "delete", "s1", raw=True)
    volume_cloud.wait(lambda: osc("volume", "snapshot", "list") == [], 30, "the snapshot to go")
    osc("volume", "delete", "src", "copy", raw=True)
    volume_cloud.wait(lambda: osc("volume", "list") == [], 30, "the volumes to go")
    assert sorted(p.name for p in volume_cloud.volumes_path.iterdir()) == []
    usage = quotas.get_usages(project)
    assert (usage["volumes"]["in_use"], usage["gigabytes"]["in_use"], usage["snapshots"]["in_use"]) == (0, 0, 0)


def test_over_quota_is_refused(osc, volume_cloud, admin_account):
    quotas.set_quota(admin_account[1], "gigabytes", 3)
    refused = osc("volume", "create", "--size", "4", "big", check=False)
    assert refused.returncode != 0 and "gigabytes" in refused.stderr
    assert Volume.objects.count() == 0


def test_volume_services_and_zones(osc, volume_cloud):
    (service,) = osc("volume", "service", "list")
    assert (service["Binary"], service["Host"], service["Zone"], service["Status"], service["State"]) == (
        "cinder-volume", "vol-host", "nova", "enabled", "up")
    zones = osc("availability", "zone", "list", "--volume")
    assert [(z["Zone Name"], z["Zone Status"]) for z in zones] == [("nova", "available")]
