"""Compute microversions 2.2 to 2.10 as a client sees them: each step's body changes at its
version and not below it (key pairs 2.2/2.10: compute/tests/test_keypairs_api.py)."""
import base64

import pytest

from cloudproj.testing.servers import API, boot
from compute.models import Instance

pytestmark = pytest.mark.django_db

EXTENDED_2_3 = {
    "OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:launch_index", "OS-EXT-SRV-ATTR:kernel_id",
    "OS-EXT-SRV-ATTR:ramdisk_id", "OS-EXT-SRV-ATTR:hostname", "OS-EXT-SRV-ATTR:root_device_name",
    "OS-EXT-SRV-ATTR:user_data",
}
# every key of a server at 2.1 (tempest's v2_1 get_server schema allows no other) for an admin
DETAIL_2_1 = {
    "id", "name", "status", "tenant_id", "user_id", "metadata", "hostId", "image", "flavor", "created",
    "updated", "addresses", "accessIPv4", "accessIPv6", "links", "key_name", "config_drive",
    "OS-DCF:diskConfig", "OS-EXT-AZ:availability_zone", "OS-EXT-STS:vm_state", "OS-EXT-STS:task_state",
    "OS-EXT-STS:power_state", "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at", "security_groups",
    "os-extended-volumes:volumes_attached", "progress",
    "OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname", "OS-EXT-SRV-ATTR:instance_name",
}


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path (every test here)."""


def v(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def get(client, path, version):
    response = client.get(f"{API}/{path}", **v(version))
    assert response.status_code == 200, response.content
    assert response["OpenStack-API-Version"] == f"compute {version}"
    return response.json()


def test_2_3_extended_server_attributes_for_admins(admin_client, member_client, image):
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    server_id = boot(member_client, image, "web", user_data=user_data)["server"]["id"]
    instance = Instance.objects.get(uuid=server_id)

    at_2_1 = get(admin_client, f"servers/{server_id}", "2.1")["server"]
    assert set(at_2_1) == DETAIL_2_1
    at_2_2 = get(admin_client, f"servers/{server_id}", "2.2")["server"]
    assert set(at_2_2) == DETAIL_2_1

    at_2_3 = get(admin_client, f"servers/{server_id}", "2.3")["server"]
    assert set(at_2_3) == DETAIL_2_1 | EXTENDED_2_3
    assert at_2_3["OS-EXT-SRV-ATTR:reservation_id"] == instance.reservation_id
    assert at_2_3["OS-EXT-SRV-ATTR:reservation_id"].startswith("r-")
    assert at_2_3["OS-EXT-SRV-ATTR:launch_index"] == 0
    assert at_2_3["OS-EXT-SRV-ATTR:hostname"] == "web"
    assert at_2_3["OS-EXT-SRV-ATTR:user_data"] == user_data
    assert at_2_3["OS-EXT-SRV-ATTR:root_device_name"] == "/dev/vda"
    assert at_2_3["OS-EXT-SRV-ATTR:kernel_id"] == "" and at_2_3["OS-EXT-SRV-ATTR:ramdisk_id"] == ""
    listed = get(admin_client, "servers/detail?all_tenants=1", "2.3")["servers"]
    assert set(listed[0]) == DETAIL_2_1 | EXTENDED_2_3

    # a member sees none of the OS-EXT-SRV-ATTR keys, at any version
    mine = get(member_client, f"servers/{server_id}", "2.3")["server"]
    assert not any(key.startswith("OS-EXT-SRV-ATTR") for key in mine)
    assert set(mine) == DETAIL_2_1 - {
        "OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname", "OS-EXT-SRV-ATTR:instance_name"}


def test_2_3_attached_volumes_say_delete_on_termination(member_client, image, monkeypatch):
    from compute.api import server_view

    server_id = boot(member_client, image, "web")["server"]["id"]
    volume_id = "6e3e7d1b-6a53-4d34-9d52-6d7b0f0a5f31"
    # the volumes app's lookup, answering one attachment (the attachment path is tested in volumes/)
    monkeypatch.setitem(server_view._lookups, "volumes", lambda instances: {i.uuid: [(volume_id, False)] for i in instances})
    at_2_1 = get(member_client, f"servers/{server_id}", "2.1")["server"]
    assert at_2_1["os-extended-volumes:volumes_attached"] == [{"id": volume_id}]
    at_2_3 = get(member_client, f"servers/{server_id}", "2.3")["server"]
    assert at_2_3["os-extended-volumes:volumes_attached"] == [{"id": volume_id, "delete_on_termination": False}]


def test_2_5_ip6_filter_for_everyone(member_client, image):
    boot(member_client, image, "web")
    # below 2.5 a member's ip6 filter is not one of theirs: ignored, as Nova does
    assert len(get(member_client, "servers?ip6=fd00::", "2.4")["servers"]) == 1
    # from 2.5 it filters (this server has no IPv6 address)
    assert get(member_client, "servers?ip6=fd00::", "2.5")["servers"] == []
    bad = member_client.get(f"{API}/servers?ip6=(", **v("2.5"))
    assert bad.status_code == 400 and "badRequest" in bad.json()


def test_2_9_locked(member_client, image):
    server_id = boot(member_client, image, "web")["server"]["id"]
    assert "locked" not in get(member_client, f"servers/{server_id}", "2.8")["server"]
    assert get(member_client, f"servers/{server_id}", "2.9")["server"]["locked"] is False
    Instance.objects.filter(uuid=server_id).update(locked=True, locked_by="owner")
    assert get(member_client, f"servers/{server_id}", "2.9")["server"]["locked"] is True
    assert get(member_client, "servers/detail", "2.9")["servers"][0]["locked"] is True
    renamed = member_client.put(f"{API}/servers/{server_id}", {"server": {"name": "www"}}, format="json",
                                **v("2.9"))
    assert renamed.status_code in (200, 409)
    if renamed.status_code == 200:
        assert renamed.json()["server"]["locked"] is True


def test_create_response_is_the_same_at_every_version(member_client, image):
    body = {"server": {"name": "web", "imageRef": str(image.id), "flavorRef": "1"}}
    for version in ("2.1", "2.10"):
        response = member_client.post(f"{API}/servers", body, format="json", **v(version))
        assert response.status_code == 202
        assert response["OpenStack-API-Version"] == f"compute {version}"
        assert set(response.json()["server"]) == {"id", "links", "OS-DCF:diskConfig", "security_groups",
                                                  "adminPass"}


def test_2_11_force_down(admin_client, member_client, compute_host):
    compute_host("host-a")
    body = {"host": "host-a", "binary": "nova-compute", "forced_down": True}
    # below 2.11 there is no such action
    assert admin_client.put(f"{API}/os-services/force-down", body, format="json", **v("2.10")).status_code == 404
    services = get(admin_client, "os-services?binary=nova-compute", "2.10")["services"]
    assert "forced_down" not in services[0]
    assert get(admin_client, "os-services?binary=nova-compute", "2.11")["services"][0]["forced_down"] is False

    resp = admin_client.put(f"{API}/os-services/force-down", body, format="json", **v("2.11"))
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"service": {"host": "host-a", "binary": "nova-compute", "forced_down": True}}
    (service,) = get(admin_client, "os-services?binary=nova-compute", "2.11")["services"]
    assert service["forced_down"] is True and service["state"] == "down"  # whatever its heartbeat says
    hypervisor = get(admin_client, "os-hypervisors", "2.11")["hypervisors"][0]
    assert hypervisor["state"] == "down"

    body["forced_down"] = False
    assert admin_client.put(f"{API}/os-services/force-down", body, format="json", **v("2.11")).status_code == 200
    assert get(admin_client, "os-services?binary=nova-compute", "2.11")["services"][0]["state"] == "up"

    for bad in ({"host": "host-a", "binary": "nova-compute"}, {**body, "forced_down": "maybe"},
                {**body, "extra": 1}):
        resp = admin_client.put(f"{API}/os-services/force-down", bad, format="json", **v("2.11"))
        assert resp.status_code == 400 and "badRequest" in resp.json()
    missing = admin_client.put(f"{API}/os-services/force-down", {**body, "host": "nowhere"}, format="json",
                               **v("2.11"))
    assert missing.status_code == 404
    denied = member_client.put(f"{API}/os-services/force-down", body, format="json", **v("2.11"))
    assert denied.status_code == 403


def test_extensions_list_and_show(member_client, anon_client):
    listed = get(member_client, "extensions", "2.1")["extensions"]
    aliases = [e["alias"] for e in listed]
    assert {"os-keypairs", "os-hypervisors", "OS-EXT-SRV-ATTR", "os-flavor-extra-specs", "os-volumes",
            "os-tenant-networks"} <= set(aliases)
    assert "os-cells" not in aliases and "os-baremetal-nodes" not in aliases  # not served by this cloud
    assert {"os-aggregates", "os-server-groups", "os-lock-server", "os-migrations", "os-server-diagnostics"} <= set(
        aliases)
    for entry in listed:
        assert set(entry) == {"alias", "description", "links", "name", "namespace", "updated"}
        assert entry["links"] == [] and entry["updated"] == "2014-12-03T00:00:00Z"
    shown = get(member_client, "extensions/os-keypairs", "2.1")
    assert shown == {"extension": {"alias": "os-keypairs", "description": "Keypair Support.", "links": [],
                                   "name": "Keypairs", "namespace": "http://docs.openstack.org/compute/ext/fake_xml",
                                   "updated": "2014-12-03T00:00:00Z"}}
    missing = member_client.get(f"{API}/extensions/os-cells")
    assert missing.status_code == 404 and missing.json()["itemNotFound"]["code"] == 404
    assert anon_client.get(f"{API}/extensions").status_code == 401


def test_os_tenant_networks(member_client, other_client, member_account):
    from network.services.networks import create_network

    shared = create_network("shared", "10.41.0.0/28", bridge="brtn0")
    mine = create_network("mine", "10.42.0.0/28", bridge="brtn1", project=member_account[1])
    listed = get(member_client, "os-tenant-networks", "2.1")["networks"]
    assert listed == [{"id": str(shared.uuid), "label": "shared", "cidr": "10.41.0.0/28"},
                      {"id": str(mine.uuid), "label": "mine", "cidr": "10.42.0.0/28"}]
    assert get(member_client, f"os-tenant-networks/{mine.uuid}", "2.1") == {"network": listed[1]}
    # another project sees the shared network only, and not ours
    assert [n["label"] for n in get(other_client, "os-tenant-networks", "2.1")["networks"]] == ["shared"]
    hidden = other_client.get(f"{API}/os-tenant-networks/{mine.uuid}")
    assert hidden.status_code == 404 and "itemNotFound" in hidden.json()
    assert member_client.get(f"{API}/os-tenant-networks/no-such-net").status_code == 404


def test_image_metadata_proxy(member_client, other_client, admin_client, member_account):
    import io

    from identity.services import quotas
    from images.models import Image
    from images.services.registry import register_image

    image = register_image(io.BytesIO(b"x" * 512), "mine", disk_format="raw", owner=member_account[1],
                           properties={"os_distro": "cirros"})
    url = f"{API}/images/{image.id}/metadata"
    assert get(member_client, f"images/{image.id}/metadata", "2.1") == {"metadata": {"os_distro": "cirros"}}
    merged = member_client.post(url, {"metadata": {"a": "1", "b": "2"}}, format="json")
    assert merged.status_code == 200
    assert merged.json() == {"metadata": {"os_distro": "cirros", "a": "1", "b": "2"}}
    replaced = member_client.put(url, {"metadata": {"c": "3"}}, format="json")
    assert replaced.status_code == 200 and replaced.json() == {"metadata": {"c": "3"}}
    assert Image.objects.get(pk=image.pk).properties == {"c": "3"}

    assert get(member_client, f"images/{image.id}/metadata/c", "2.1") == {"meta": {"c": "3"}}
    item = member_client.put(f"{url}/d", {"meta": {"d": "4"}}, format="json")
    assert item.status_code == 200 and item.json() == {"meta": {"d": "4"}}
    # the compute API's shapes too: image show carries the same metadata
    assert get(member_client, f"images/{image.id}", "2.1")["image"]["metadata"] == {"c": "3", "d": "4"}
    assert member_client.put(f"{url}/d", {"meta": {"e": "5"}}, format="json").status_code == 400
    assert member_client.put(f"{url}/d", {"meta": {"d": "4", "e": "5"}}, format="json").status_code == 400
    assert member_client.post(url, {"metadata": {"x": 1}}, format="json").status_code == 400
    assert member_client.post(url, {"meta": {"x": "1"}}, format="json").status_code == 400
    deleted = member_client.delete(f"{url}/d")
    assert deleted.status_code == 204
    missing = member_client.get(f"{url}/d")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()
    assert member_client.delete(f"{url}/d").status_code == 404

    quotas.set_quota(member_account[1], "metadata_items", 2)
    over = member_client.post(url, {"metadata": {"y": "1", "z": "2"}}, format="json")
    assert over.status_code == 403 and "forbidden" in over.json()
    assert Image.objects.get(pk=image.pk).properties == {"c": "3"}  # nothing half-written

    # another project: it cannot see a private image; a public one it may read, not change
    assert other_client.get(url).status_code == 404
    Image.objects.filter(pk=image.pk).update(visibility=Image.PUBLIC)
    assert other_client.get(url).json() == {"metadata": {"c": "3"}}
    assert other_client.post(url, {"metadata": {"k": "v"}}, format="json").status_code == 403
    assert other_client.delete(f"{url}/c").status_code == 403
    assert admin_client.post(url, {"metadata": {"k": "v"}}, format="json").status_code == 200
    assert member_client.get(f"{API}/images/00000000-0000-0000-0000-000000000000/metadata").status_code == 404


VOLUME_KEYS = {"id", "status", "size", "availabilityZone", "createdAt", "attachments", "displayName",
               "displayDescription", "volumeType", "snapshotId", "metadata"}
SNAPSHOT_KEYS = {"id", "volumeId", "status", "size", "createdAt", "displayName", "displayDescription"}


def test_os_volumes_and_os_snapshots_proxy(member_client, other_client, monkeypatch,
                                           django_capture_on_commit_callbacks):
    from cloudproj import task_names
    from cloudproj.celery import app
    from volumes.models import Snapshot, Volume

    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: sent.append((name, queue)))
    body = {"volume": {"size": 1, "display_name": "data", "display_description": "for tests",
                       "metadata": {"k": "v"}}}
    created = member_client.post(f"{API}/os-volumes", body, format="json")
    assert created.status_code == 200, created.content
    volume = created.json()["volume"]
    assert set(volume) == VOLUME_KEYS
    assert (volume["size"], volume["displayName"], volume["displayDescription"]) == (1, "data", "for tests")
    assert volume["metadata"] == {"k": "v"} and volume["attachments"] == [{}]
    assert volume["volumeType"] is None and volume["snapshotId"] is None
    row = Volume.objects.get(uuid=volume["id"])
    assert row.size == 1 and row.name == "data"

    for path in ("os-volumes", "os-volumes/detail"):
        listed = get(member_client, path, "2.1")["volumes"]
        assert [v["id"] for v in listed] == [volume["id"]] and set(listed[0]) == VOLUME_KEYS
    assert get(member_client, f"os-volumes/{volume['id']}", "2.1")["volume"]["id"] == volume["id"]
    assert get(other_client, "os-volumes", "2.1") == {"volumes": []}
    assert other_client.get(f"{API}/os-volumes/{volume['id']}").status_code == 404

    for bad in ({"volume": {"size": 0}}, {"volume": {"size": "x"}}, {"volume": {}},
                {"volume": {"size": 1, "colour": "red"}}, {"volume": {"size": 1, "volume_type": "fast"}}):
        resp = member_client.post(f"{API}/os-volumes", bad, format="json")
        assert resp.status_code == 400 and "badRequest" in resp.json(), bad
    assert Volume.objects.count() == 1

    # a snapshot of the volume once its host made it available
    Volume.objects.filter(uuid=volume["id"]).update(status="available", host="vol-host")
    snap = member_client.post(f"{API}/os-snapshots", {"snapshot": {"volume_id": volume["id"], "display_name": "s1"}},
                              format="json")
    assert snap.status_code == 200, snap.content
    snapshot = snap.json()["snapshot"]
    assert set(snapshot) == SNAPSHOT_KEYS
    assert (snapshot["volumeId"], snapshot["size"], snapshot["displayName"]) == (volume["id"], 1, "s1")
    for path in ("os-snapshots", "os-snapshots/detail"):
        assert [s["id"] for s in get(member_client, path, "2.1")["snapshots"]] == [snapshot["id"]]
    assert get(member_client, f"os-snapshots/{snapshot['id']}", "2.1")["snapshot"] == snapshot
    assert other_client.get(f"{API}/os-snapshots/{snapshot['id']}").status_code == 404
    missing = member_client.post(f"{API}/os-snapshots", {"snapshot": {"volume_id": "nope"}}, format="json")
    assert missing.status_code == 404

    # a volume with snapshots is not deleted; the snapshot delete goes to the volume's host
    assert member_client.delete(f"{API}/os-volumes/{volume['id']}").status_code == 400
    Snapshot.objects.filter(uuid=snapshot["id"]).update(status="available")
    with django_capture_on_commit_callbacks(execute=True):
        assert member_client.delete(f"{API}/os-snapshots/{snapshot['id']}").status_code == 202
    assert Snapshot.objects.get(uuid=snapshot["id"]).status == "deleting"
    assert sent[-1][0] == task_names.DELETE_VOLUME_SNAPSHOT and sent[-1][1].endswith("vol-host")
