"""The project's server groups panel (all four policies, max_server_per_host) and the launch
form's server group: servers launched into a group are its members, placed by its policy."""
from unittest import mock

import pytest

from compute.models import Instance, ServerGroup, ServerGroupMember
from images.services.registry import register_image
from network.services.networks import create_network

GROUPS = "/dashboard/server-groups/"


def _html(response):
    return response.content.decode()


def test_create_list_and_delete_groups(member, other):
    client = member["client"]
    page = _html(client.post(GROUPS, {"name": "spread", "policy": "anti-affinity", "max_server_per_host": 2},
                             follow=True))
    assert "Server group spread (anti-affinity) created." in page
    assert "anti-affinity (at most 2 per host)" in page
    client.post(GROUPS, {"name": "pack", "policy": "soft-affinity"})
    assert sorted(ServerGroup.objects.values_list("name", "policy")) == [
        ("pack", "soft-affinity"), ("spread", "anti-affinity")]
    # a rule for a policy that takes none: a readable error, nothing created
    response = client.post(GROUPS, {"name": "bad", "policy": "affinity", "max_server_per_host": 3})
    assert response.status_code == 400 and "only the anti-affinity policy takes rules" in _html(response)
    assert not ServerGroup.objects.filter(name="bad").exists()
    # another project sees none of them and cannot delete them
    assert "spread" not in _html(other["client"].get(GROUPS))
    spread = ServerGroup.objects.get(name="spread")
    assert other["client"].post(f"{GROUPS}{spread.uuid}/delete/").status_code == 404
    page = _html(client.post(f"{GROUPS}{spread.uuid}/delete/", follow=True))
    assert "Server group spread deleted" in page
    assert not ServerGroup.objects.filter(name="spread").exists()


@pytest.fixture
def launchable(member, flavor, tmp_path, settings):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    disk = tmp_path / "tiny.raw"
    disk.write_bytes(b"\0" * 65536)
    image = register_image(disk, "dash-image", disk_format="raw", visibility="public", owner=member["project"])
    create_network("dashnet", "10.245.2.0/28", bridge="cptdsg0")
    return image


def test_launch_into_a_group(member, launchable, django_capture_on_commit_callbacks):
    client = member["client"]
    client.post(GROUPS, {"name": "web", "policy": "soft-anti-affinity"})
    group = ServerGroup.objects.get(name="web")
    assert f'value="{group.uuid}"' in _html(client.get("/dashboard/instances/launch/"))
    with mock.patch("cloudproj.rpc.app.send_task"), django_capture_on_commit_callbacks(execute=True):
        response = client.post("/dashboard/instances/launch/", {
            "name": "member", "count": 2, "flavor": "dash.tiny", "image": str(launchable.id),
            "server_group": str(group.uuid)})
    assert response.status_code == 302, _html(response)[:2000]
    created = set(Instance.objects.filter(display_name="member").values_list("uuid", flat=True))
    assert set(ServerGroupMember.objects.filter(group=group).values_list("instance_uuid", flat=True)) == created
    assert "member" in _html(client.get(GROUPS))
