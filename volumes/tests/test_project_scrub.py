"""`project scrub` of a deleted project's volumes, snapshot, floating IPs, image, server group
and security groups, with a real volume agent (`./manage.py agent`, the file driver, the Redis broker) that
deletes the storage: usage goes to 0 once, the files go, a second scrub does nothing. Nothing
here touches the host's networking (the floating IPs are allocated, not associated); servers
with guests, addresses and NAT are compute/tests/test_project_deletion_pipeline.py."""
import io
import re
import uuid

import pytest
from django.core.management import call_command

from cloudproj.testing.volumes import url
from floating.models import FloatingIP
from identity.models import Project, QuotaUsage
from identity.services import accounts
from images.models import Image
from secgroups.models import SecurityGroup
from volumes.models import Snapshot, Volume

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RESOURCES = ("volumes", "gigabytes", "snapshots", "floating_ips", "security_groups")


def usage(project_id) -> dict:
    found = dict(QuotaUsage.objects.filter(project_id=project_id).values_list("resource", "in_use"))
    return {resource: found.get(resource, 0) for resource in RESOURCES}


def scrub(*args) -> str:
    out = io.StringIO()
    call_command("project", "scrub", *args, stdout=out)
    return out.getvalue()


def test_scrub_deletes_a_deleted_projects_volumes_snapshot_floating_ips_image_and_groups(
    volume_cloud, member_account, member_client, tmp_path
):
    from floating.services import addresses, ranges
    from images.services.registry import register_image
    from secgroups.services import groups

    user, project, _token = member_account
    ctx = type("Ctx", (), {"project_id": project.id, "user_id": user.id, "is_admin": False,
                           "request_id": f"req-{uuid.uuid4()}"})()
    volumes = []
    for name in ("keep-me-not-1", "keep-me-not-2"):
        response = member_client.post(url(project, "volumes"), {"volume": {"size": 1, "name": name}}, format="json")
        assert response.status_code == 202, response.content
        volumes.append(Volume.objects.get(uuid=response.json()["volume"]["id"]))
    volume_cloud.wait(lambda: Volume.objects.filter(pk__in=[v.pk for v in volumes], status="available").count()
                      == 2, 30, "two available volumes")
    response = member_client.post(url(project, "snapshots"), {"snapshot": {"volume_id": str(volumes[0].uuid)}},
                                  format="json")
    assert response.status_code == 202, response.content
    snapshot = Snapshot.objects.get(uuid=response.json()["snapshot"]["id"])
    volume_cloud.wait(lambda: Snapshot.objects.get(pk=snapshot.pk).status == "available", 30, "the snapshot")
    ranges.create_range("198.51.100.252/30", pool="nova")
    floating = [addresses.allocate(ctx) for _ in range(2)]
    disk = tmp_path / "img.raw"
    disk.write_bytes(b"\0" * 4096)
    image = register_image(disk, "doomed-image", disk_format="raw", visibility="private", owner=project)
    groups.ensure_default(project.id)
    groups.create_group(project.id, "web", "web servers")
    from compute.models import ServerGroup
    from compute.services import server_groups

    server_groups.create_group(ctx, "spread", "anti-affinity")
    files = [volume_cloud.volumes_path / f"{v.storage_name}.raw" for v in volumes]
    assert all(path.exists() for path in files)
    assert usage(project.id) == {"volumes": 2, "gigabytes": 3, "snapshots": 1, "floating_ips": 2,
                                 "security_groups": 2}

    accounts.delete_project(project)
    listed = scrub(project.id, "--list")
    assert "deleted)" in listed and re.search(r"\bvolumes\W+2\b", listed) and re.search(r"\bsnapshots\W+1\b", listed)

    out = scrub(project.id, "--wait", "60")
    assert "nothing left" in out, out
    assert f"snapshots deleted: 1 ({snapshot.uuid})" in out
    assert "volumes deleted: 2" in out and "floating_ips deleted: 2" in out and "images deleted: 1" in out
    assert "security_groups deleted: 2" in out and "server_groups deleted: 1 (spread)" in out
    assert not ServerGroup.objects.filter(project_id=project.id).exists()
    assert usage(project.id) == {resource: 0 for resource in RESOURCES}
    assert not any(path.exists() for path in files)
    assert not Volume.objects.filter(project_id=project.id).exists()
    assert not Snapshot.objects.filter(project_id=project.id).exists()
    assert FloatingIP.objects.filter(address__in=[f.address for f in floating], project__isnull=True).count() == 2
    assert Image.all_objects.get(pk=image.pk).status == Image.DELETED
    assert not SecurityGroup.objects.filter(project_id=project.id).exists()
    assert Project.all_objects.get(pk=project.id).is_deleted

    again = scrub(project.id)
    assert "deleted: " not in again and "nothing left" in again
    assert usage(project.id) == {resource: 0 for resource in RESOURCES}
