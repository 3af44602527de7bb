"""Block Storage v3 actions tempest exercises (tempest.api.volume.test_volumes_actions,
admin.test_volumes_actions, admin.test_snapshots_actions, test_volume_metadata,
test_snapshot_metadata, test_volume_delete_cascade, test_volumes_list pagination):
os-reserve/os-unreserve, os-attach/os-detach (bookkeeping, as Cinder's), os-begin_detaching/
os-roll_detaching, os-force_detach, os-reset_status to any of Cinder's statuses and force delete
from them, snapshot os-reset_status/os-update_snapshot_status/os-force_delete, metadata routes,
cascade delete, Cinder's next link, the 404 of DELETE without an id.

DRF test client against the real API; the volume host's part runs by calling
volumes.services.host, as the agent's task would (no guest is involved: os-attach records only).
"""
import pytest

from cloudproj.testing.factories import make_instance
from cloudproj.testing.volumes import available, create, url
from compute import states as compute_states
from identity.models import Project, User
from volumes.models import Snapshot, Volume, VolumeAttachment
from volumes.services import attachments
from volumes.services import host as volume_host

pytestmark = pytest.mark.django_db


def error(resp, code, name):
    assert resp.status_code == code, resp.content
    return resp.json()[name]["message"]


def action(client, project, volume_id, body):
    return client.post(url(project, f"volumes/{volume_id}/action"), body, format="json")


def status(client, project, volume_id):
    return client.get(url(project, f"volumes/{volume_id}")).json()["volume"]["status"]


def snapshot_of(client, project, volume_id):
    resp = client.post(url(project, "snapshots"), {"snapshot": {"volume_id": volume_id}}, format="json")
    assert resp.status_code == 202, resp.content
    snapshot_id = resp.json()["snapshot"]["id"]
    assert volume_host.create_snapshot(Snapshot.objects.get(uuid=snapshot_id).id) == "available"
    return snapshot_id


@pytest.fixture
def server(member_account):
    user, project, _ = member_account
    return make_instance(project, user, vm_state=compute_states.ACTIVE, task_state=None, host="vol-a")


def test_reserve_and_unreserve(member_client, demo, volume_host_a):
    volume_id = available(member_client, demo)
    assert action(member_client, demo, volume_id, {"os-reserve": {}}).status_code == 202
    assert status(member_client, demo, volume_id) == "attaching"
    # reserved twice: Cinder's 400 (tempest test_reserve_volume_with_negative_volume_status)
    error(action(member_client, demo, volume_id, {"os-reserve": {}}), 400, "badRequest")
    assert action(member_client, demo, volume_id, {"os-unreserve": {}}).status_code == 202
    assert status(member_client, demo, volume_id) == "available"
    error(action(member_client, demo, volume_id, {"os-unreserve": {}}), 400, "badRequest")
    for verb in ("os-reserve", "os-unreserve", "os-detach"):
        error(action(member_client, demo, "xxx", {verb: {}}), 404, "itemNotFound")
        error(action(member_client, demo, "f6fb3b62-35c2-4fd0-8e3b-5c0b4cf2f6a1", {verb: {}}), 404, "itemNotFound")


def test_attach_and_detach_record_the_attachment(member_client, demo, volume_host_a, server):
    """os-attach: in-use with the server and mountpoint in `attachments`; nothing on the guest, so
    Compute's os-volume_attachments does not list it; os-detach forgets it."""
    volume_id = available(member_client, demo)
    body = {"os-attach": {"instance_uuid": str(server.uuid), "mountpoint": "/dev/vdb"}}
    assert action(member_client, demo, volume_id, body).status_code == 202
    shown = member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]
    assert shown["status"] == "in-use"
    (attachment,) = shown["attachments"]
    assert attachment["server_id"] == str(server.uuid) and attachment["device"] == "/dev/vdb"
    assert attachment["id"] == attachment["volume_id"] == volume_id and attachment["attachment_id"]
    compute_view = member_client.get(f"/compute/v2.1/servers/{server.uuid}/os-volume_attachments")
    assert compute_view.json()["volumeAttachments"] == []
    # attached already: a second os-attach, a delete and Compute's detach are refused
    error(action(member_client, demo, volume_id, body), 400, "badRequest")
    error(member_client.delete(url(demo, f"volumes/{volume_id}")), 400, "badRequest")
    assert member_client.delete(f"/compute/v2.1/servers/{server.uuid}/os-volume_attachments/{volume_id}"
                                ).status_code == 404
    # os-begin_detaching / os-roll_detaching
    assert action(member_client, demo, volume_id, {"os-begin_detaching": {}}).status_code == 202
    assert status(member_client, demo, volume_id) == "detaching"
    assert action(member_client, demo, volume_id, {"os-roll_detaching": {}}).status_code == 202
    assert status(member_client, demo, volume_id) == "in-use"
    error(action(member_client, demo, volume_id, {"os-detach": {"attachment_id": "nope"}}), 400, "badRequest")
    assert action(member_client, demo, volume_id, {"os-detach": {}}).status_code == 202
    shown = member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]
    assert shown["status"] == "available" and shown["attachments"] == []
    # detached already: nothing to do (Cinder; tempest's clean-up after a force detach)
    assert action(member_client, demo, volume_id, {"os-detach": {}}).status_code == 202
    action(member_client, demo, volume_id, {"os-reserve": {}})
    error(action(member_client, demo, volume_id, {"os-detach": {}}), 400, "badRequest")  # attaching


def test_attach_after_reserve_and_bad_attach_bodies(member_client, demo, volume_host_a, server, make_account):
    volume_id = available(member_client, demo)
    assert action(member_client, demo, volume_id, {"os-reserve": {}}).status_code == 202
    for bad in ({}, {"instance_uuid": "not-a-uuid", "mountpoint": "/dev/vdb"},
                {"instance_uuid": str(server.uuid), "mountpoint": "vdb; rm -rf /"},
                {"instance_uuid": str(server.uuid), "mountpoint": "/dev/vdb", "mode": "rx"},
                {"host_name": "somewhere", "mountpoint": "/dev/vdb"}):
        error(action(member_client, demo, volume_id, {"os-attach": bad}), 400, "badRequest")
    # another project's server is not found
    other_user, other_project, _ = make_account("other", "member", username="other-user")
    foreign = make_instance(other_project, other_user, vm_state=compute_states.ACTIVE, task_state=None)
    error(action(member_client, demo, volume_id, {"os-attach": {"instance_uuid": str(foreign.uuid),
                                                                 "mountpoint": "/dev/vdb"}}), 404, "itemNotFound")
    assert status(member_client, demo, volume_id) == "attaching"  # nothing half-written
    ok = {"os-attach": {"instance_uuid": str(server.uuid), "mountpoint": "/dev/vdc", "mode": "rw"}}
    assert action(member_client, demo, volume_id, ok).status_code == 202
    assert status(member_client, demo, volume_id) == "in-use"
    # the server is deleted: its attachments go, the volume is available again
    assert attachments.on_instance_deleted(server) == 1
    assert status(member_client, demo, volume_id) == "available"


def test_force_detach_after_reset_to_error(member_client, demo, admin_client, admin_project, volume_host_a,
                                           server):
    """tempest admin test_force_detach_volume: attached, reset to error, force-detached -> available."""
    volume_id = available(member_client, demo)
    action(member_client, demo, volume_id, {"os-attach": {"instance_uuid": str(server.uuid),
                                                          "mountpoint": "/dev/vdb"}})
    attachment_id = member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]["attachments"][0][
        "attachment_id"]
    assert action(admin_client, admin_project, volume_id, {"os-reset_status": {"status": "error"}}).status_code == 202
    assert status(member_client, demo, volume_id) == "error"
    body = {"os-force_detach": {"attachment_id": attachment_id, "connector": None}}
    error(action(member_client, demo, volume_id, body), 403, "forbidden")  # admins only
    assert action(admin_client, admin_project, volume_id, body).status_code == 202
    shown = member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]
    assert shown["status"] == "available" and shown["attachments"] == []


def test_detach_actions_refuse_a_compute_attachment(member_client, demo, admin_client, admin_project,
                                                    volume_host_a, server):
    """A disk the Compute API attached is detached there (the guest holds it): 409."""
    volume_id = available(member_client, demo)
    volume = Volume.objects.get(uuid=volume_id)
    VolumeAttachment.objects.create(volume=volume, instance_uuid=server.uuid, instance_host="vol-a",
                                    device="/dev/vdb")
    Volume.objects.filter(pk=volume.pk).update(status="in-use")
    error(action(member_client, demo, volume_id, {"os-detach": {}}), 409, "conflictingRequest")
    error(action(admin_client, admin_project, volume_id, {"os-force_detach": {}}), 409, "conflictingRequest")
    assert status(member_client, demo, volume_id) == "in-use"


@pytest.mark.parametrize("state", ["creating", "attaching", "error", "maintenance"])
def test_reset_status_then_force_delete(member_client, demo, admin_client, admin_project, volume_host_a, state):
    volume_id = available(member_client, demo)
    assert action(admin_client, admin_project, volume_id, {"os-reset_status": {"status": state}}).status_code == 202
    assert status(member_client, demo, volume_id) == state
    assert action(admin_client, admin_project, volume_id, {"os-force_delete": {}}).status_code == 202
    assert status(member_client, demo, volume_id) == "deleting"
    assert volume_host.delete_volume(Volume.objects.get(uuid=volume_id).id) == "deleted"
    assert member_client.get(url(demo, f"volumes/{volume_id}")).status_code == 404


def test_reset_status_refusals(member_client, demo, admin_client, admin_project, volume_host_a):
    volume_id = available(member_client, demo)
    for bad in ("in-use", "bogus", None, 5):
        error(action(admin_client, admin_project, volume_id, {"os-reset_status": {"status": bad}}), 400,
              "badRequest")
    error(action(member_client, demo, volume_id, {"os-reset_status": {"status": "error"}}), 403, "forbidden")


def test_snapshot_actions(member_client, demo, admin_client, admin_project, volume_host_a):
    volume_id = available(member_client, demo)
    snapshot_id = snapshot_of(member_client, demo, volume_id)

    def snap_action(client, project, body, sid=snapshot_id):
        return client.post(url(project, f"snapshots/{sid}/action"), body, format="json")

    def shown():
        return admin_client.get(url(admin_project, f"snapshots/{snapshot_id}")).json()["snapshot"]

    error(snap_action(member_client, demo, {"os-reset_status": {"status": "creating"}}), 403, "forbidden")
    assert snap_action(admin_client, admin_project, {"os-reset_status": {"status": "creating"}}).status_code == 202
    assert shown()["status"] == "creating"
    # the owner reports the outcome: creating -> error at 80%
    body = {"os-update_snapshot_status": {"status": "error", "progress": "80%"}}
    assert snap_action(member_client, demo, body).status_code == 202
    assert shown()["status"] == "error" and shown()["os-extended-snapshot-attributes:progress"] == "80%"
    # error -> available is not a step an owner may report; bad progress is refused
    error(snap_action(member_client, demo, {"os-update_snapshot_status": {"status": "available"}}), 400,
          "badRequest")
    snap_action(admin_client, admin_project, {"os-reset_status": {"status": "creating"}})
    error(snap_action(member_client, demo, {"os-update_snapshot_status": {"status": "available", "progress": "x"}}),
          400, "badRequest")
    error(snap_action(admin_client, admin_project, {"os-reset_status": {"status": "in-use"}}), 400, "badRequest")
    error(snap_action(admin_client, admin_project, {"os-nothing": {}}), 400, "badRequest")
    error(snap_action(admin_client, admin_project, {"os-force_delete": {}}, sid="nope"), 404, "itemNotFound")
    for state in ("creating", "deleting", "error", "error_deleting"):
        temp = snapshot_of(member_client, demo, volume_id)
        assert snap_action(admin_client, admin_project, {"os-reset_status": {"status": state}},
                           sid=temp).status_code == 202
        assert snap_action(admin_client, admin_project, {"os-force_delete": {}}, sid=temp).status_code == 202
        assert volume_host.delete_snapshot(Snapshot.objects.get(uuid=temp).id) == "deleted"
        assert member_client.get(url(demo, f"snapshots/{temp}")).status_code == 404


@pytest.mark.parametrize("kind", ["volumes", "snapshots"])
def test_metadata_routes(member_client, demo, volume_host_a, other_client, kind):
    volume_id = available(member_client, demo, metadata={"a": "1"})
    object_id = volume_id if kind == "volumes" else snapshot_of(member_client, demo, volume_id)
    base = url(demo, f"{kind}/{object_id}/metadata")
    if kind == "snapshots":
        assert member_client.put(base, {"metadata": {"a": "1"}}, format="json").status_code == 200
    resp = member_client.post(base, {"metadata": {"b": "2", "a": "one"}}, format="json")
    assert resp.status_code == 200 and resp.json() == {"metadata": {"a": "one", "b": "2"}}
    assert member_client.get(base).json() == {"metadata": {"a": "one", "b": "2"}}
    resp = member_client.put(base, {"metadata": {"c": "3"}}, format="json")
    assert resp.json() == {"metadata": {"c": "3"}} and member_client.get(base).json() == {"metadata": {"c": "3"}}
    resp = member_client.put(f"{base}/d", {"meta": {"d": "4"}}, format="json")
    assert resp.status_code == 200 and resp.json() == {"meta": {"d": "4"}}
    assert member_client.get(f"{base}/d").json() == {"meta": {"d": "4"}}
    error(member_client.put(f"{base}/d", {"meta": {"e": "4"}}, format="json"), 400, "badRequest")
    error(member_client.put(f"{base}/d", {"meta": {"d": "4", "e": "5"}}, format="json"), 400, "badRequest")
    error(member_client.post(base, {"metadata": {"k": 5}}, format="json"), 400, "badRequest")
    error(member_client.post(base, {"metadata": {"": "v"}}, format="json"), 400, "badRequest")
    error(member_client.post(base, {"nope": {}}, format="json"), 400, "badRequest")
    assert member_client.delete(f"{base}/d").status_code == 200
    error(member_client.get(f"{base}/d"), 404, "itemNotFound")
    error(member_client.delete(f"{base}/d"), 404, "itemNotFound")
    shown = member_client.get(url(demo, f"{kind}/{object_id}")).json()
    assert shown[kind[:-1]]["metadata"] == {"c": "3"}
    # another project's: not found
    other_project = Project.objects.get(name="other")
    error(other_client.get(url(other_project, f"{kind}/{object_id}/metadata")), 404, "itemNotFound")
    error(other_client.post(url(other_project, f"{kind}/{object_id}/metadata"), {"metadata": {"x": "y"}},
                            format="json"), 404, "itemNotFound")


def test_cascade_delete(member_client, demo, volume_host_a, settings):
    volume_id = available(member_client, demo)
    snaps = [snapshot_of(member_client, demo, volume_id) for _ in range(2)]
    message = error(member_client.delete(url(demo, f"volumes/{volume_id}")), 400, "badRequest")
    assert "2 dependent snapshots" in message
    error(member_client.delete(url(demo, f"volumes/{volume_id}?cascade=maybe")), 400, "badRequest")
    Snapshot.objects.filter(uuid=snaps[0]).update(status="creating")
    error(member_client.delete(url(demo, f"volumes/{volume_id}?cascade=true")), 400, "badRequest")
    assert status(member_client, demo, volume_id) == "available"  # nothing half-written
    Snapshot.objects.filter(uuid=snaps[0]).update(status="available")
    assert member_client.delete(url(demo, f"volumes/{volume_id}?cascade=True")).status_code == 202
    assert status(member_client, demo, volume_id) == "deleting"
    assert {member_client.get(url(demo, f"snapshots/{s}")).json()["snapshot"]["status"] for s in snaps} == {"deleting"}
    volume = Volume.objects.get(uuid=volume_id)
    data = settings.VOLUMES_PATH / f"{volume.storage_name}.raw"
    assert data.exists()
    # the host deletes the snapshots first, then the volume
    assert volume_host.delete_volume(volume.id) == "deleted"
    assert not Snapshot.objects.filter(uuid__in=snaps).exists() and not data.exists()
    assert member_client.get(url(demo, f"volumes/{volume_id}")).status_code == 404


def test_next_link_on_every_full_page_and_delete_without_id(member_client, demo, volume_host_a):
    ids = {create(member_client, demo)["id"] for _ in range(2)}
    seen, query, pages = set(), "volumes?limit=1", 0
    while query is not None:
        body = member_client.get(url(demo, query)).json()
        seen |= {v["id"] for v in body["volumes"]}
        links = [link["href"] for link in body.get("volumes_links", []) if link["rel"] == "next"]
        assert bool(links) == bool(body["volumes"])  # a full page links on, the empty last one does not
        query = "volumes?" + links[0].split("?", 1)[1] if links else None
        pages += 1
    assert seen == ids and pages == 3
    # an empty id (tempest's show/update/delete of ''): Cinder has no such route
    for method in ("get", "put", "delete"):
        error(getattr(member_client, method)(url(demo, "volumes/")), 404, "itemNotFound")
    error(member_client.delete(url(demo, "snapshots")), 404, "itemNotFound")


def test_extensions_list_hosts(member_client, demo):
    names = {e["name"] for e in member_client.get(url(demo, "extensions")).json()["extensions"]}
    assert {"Hosts", "QuotaClasses", "Qos_specs_manage", "Scheduler_stats", "SnapshotActions"} <= names


TRANSFER_KEYS = {"id", "name", "volume_id", "links", "created_at"}


def test_volume_transfer_create_list_accept(member_client, demo, other_client, volume_host_a, admin_client,
                                            admin_project):
    """tempest test_volume_transfers: offered (awaiting-transfer, the key shown once), listed,
    accepted by another project with the key: the volume, its snapshot and their quota usage move."""
    from identity.services import quotas

    volume_id = available(member_client, demo, name="moving")
    snapshot_id = snapshot_of(member_client, demo, volume_id)
    resp = member_client.post(url(demo, "os-volume-transfer"), {"transfer": {"volume_id": volume_id, "name": "t"}},
                              format="json")
    assert resp.status_code == 202, resp.content
    transfer = resp.json()["transfer"]
    assert set(transfer) == TRANSFER_KEYS | {"auth_key"} and transfer["volume_id"] == volume_id
    assert status(member_client, demo, volume_id) == "awaiting-transfer"
    shown = member_client.get(url(demo, f"os-volume-transfer/{transfer['id']}")).json()["transfer"]
    assert set(shown) == TRANSFER_KEYS and "auth_key" not in shown
    listed = member_client.get(url(demo, "os-volume-transfer")).json()["transfers"]
    assert [(t["id"], set(t)) for t in listed] == [(transfer["id"], {"id", "name", "volume_id", "links"})]
    assert [t["id"] for t in member_client.get(url(demo, "os-volume-transfer/detail")).json()["transfers"]] == [
        transfer["id"]]
    # offered: neither deleted nor offered twice
    error(member_client.delete(url(demo, f"volumes/{volume_id}")), 400, "badRequest")
    error(member_client.post(url(demo, "os-volume-transfer"), {"transfer": {"volume_id": volume_id}},
                             format="json"), 400, "badRequest")
    other = Project.objects.get(name="other")
    # another project sees no transfer, and needs the right key
    error(other_client.get(url(other, f"os-volume-transfer/{transfer['id']}")), 404, "itemNotFound")
    assert other_client.get(url(other, "os-volume-transfer")).json()["transfers"] == []
    accept = url(other, f"os-volume-transfer/{transfer['id']}/accept")
    error(other_client.post(accept, {"accept": {"auth_key": "wrong"}}, format="json"), 400, "badRequest")
    error(other_client.post(accept, {"accept": {}}, format="json"), 400, "badRequest")
    before = {p: quotas.get_usages(p) for p in (demo.id, other.id)}
    resp = other_client.post(accept, {"accept": {"auth_key": transfer["auth_key"]}}, format="json")
    assert resp.status_code == 202, resp.content
    assert set(resp.json()["transfer"]) == {"id", "name", "volume_id", "links"}
    assert other.id in resp.json()["transfer"]["links"][0]["href"]
    moved = admin_client.get(url(admin_project, f"volumes/{volume_id}")).json()["volume"]
    assert moved["status"] == "available" and moved["os-vol-tenant-attr:tenant_id"] == other.id
    assert moved["user_id"] == User.objects.get(username="other-user").id
    assert other_client.get(url(other, f"snapshots/{snapshot_id}")).status_code == 200
    assert member_client.get(url(demo, f"volumes/{volume_id}")).status_code == 404
    assert member_client.get(url(demo, f"os-volume-transfer/{transfer['id']}")).status_code == 404
    after = {p: quotas.get_usages(p) for p in (demo.id, other.id)}
    for resource, moved_amount in (("gigabytes", 2), ("volumes", 1), ("snapshots", 1)):  # 1G volume + its snapshot
        assert after[demo.id][resource]["in_use"] == before[demo.id][resource]["in_use"] - moved_amount, resource
        assert after[other.id][resource]["in_use"] == before[other.id][resource]["in_use"] + moved_amount, resource


def test_volume_transfer_delete_and_bad_requests(member_client, demo, volume_host_a, other_client):
    volume_id = available(member_client, demo)
    for bad in ({}, {"transfer": {}}, {"transfer": {"volume_id": volume_id, "extra": 1}},
                {"transfer": {"volume_id": volume_id, "name": 5}}):
        error(member_client.post(url(demo, "os-volume-transfer"), bad, format="json"), 400, "badRequest")
    error(member_client.post(url(demo, "os-volume-transfer"), {"transfer": {"volume_id": "nope"}}, format="json"),
          404, "itemNotFound")
    assert status(member_client, demo, volume_id) == "available"  # nothing half-written
    transfer = member_client.post(url(demo, "os-volume-transfer"), {"transfer": {"volume_id": volume_id}},
                                  format="json").json()["transfer"]
    other = Project.objects.get(name="other")
    error(other_client.delete(url(other, f"os-volume-transfer/{transfer['id']}")), 404, "itemNotFound")
    assert member_client.delete(url(demo, f"os-volume-transfer/{transfer['id']}")).status_code == 202
    assert status(member_client, demo, volume_id) == "available"
    error(member_client.get(url(demo, f"os-volume-transfer/{transfer['id']}")), 404, "itemNotFound")
    error(other_client.post(url(other, f"os-volume-transfer/{transfer['id']}/accept"),
                            {"accept": {"auth_key": transfer["auth_key"]}}, format="json"), 404, "itemNotFound")


def test_image_metadata_actions(member_client, demo, volume_host_a):
    """tempest test_image_metadata: os-set_image_metadata merges into volume_image_metadata,
    os-unset_image_metadata removes a key, os-show_image_metadata shows it."""
    volume_id = available(member_client, demo)
    assert "volume_image_metadata" not in member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]
    meta = {"image_id": "5137a025-3c5f-43c1-bc64-5f41270040a5", "image_name": "image", "ramdisk_id": "somedisk"}
    resp = action(member_client, demo, volume_id, {"os-set_image_metadata": {"metadata": meta}})
    assert resp.status_code == 200 and resp.json() == {"metadata": meta}
    shown = member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]["volume_image_metadata"]
    assert shown == meta
    assert action(member_client, demo, volume_id, {"os-unset_image_metadata": {"key": "ramdisk_id"}}
                  ).status_code == 200
    error(action(member_client, demo, volume_id, {"os-unset_image_metadata": {"key": "ramdisk_id"}}), 404,
          "itemNotFound")
    resp = action(member_client, demo, volume_id, {"os-show_image_metadata": {}})
    assert resp.json() == {"metadata": {"image_id": meta["image_id"], "image_name": "image"}}
    listed = member_client.get(url(demo, 'volumes?glance_metadata={"image_name": "image"}'),
                               HTTP_OPENSTACK_API_VERSION="volume 3.4").json()["volumes"]
    assert [v["id"] for v in listed] == [volume_id]
    for bad in ({"os-set_image_metadata": {}}, {"os-set_image_metadata": {"metadata": {"k": 1}}},
                {"os-set_image_metadata": "x"}):
        error(action(member_client, demo, volume_id, bad), 400, "badRequest")


def test_admins_list_one_projects_volumes(member_client, demo, admin_client, admin_project, volume_host_a):
    """tempest test_volume_list_param_tenant: ?all_tenants=1&project_id= (admins)."""
    mine = {create(member_client, demo)["id"] for _ in range(2)}
    create(admin_client, admin_project)
    listed = admin_client.get(url(admin_project, f"volumes/detail?all_tenants=1&project_id={demo.id}")).json()
    assert {v["id"] for v in listed["volumes"]} == mine
    assert {v["os-vol-tenant-attr:tenant_id"] for v in listed["volumes"]} == {demo.id}
    # a member's project_id parameter is no filter of theirs: their own volumes only
    other = member_client.get(url(demo, f"volumes?project_id={admin_project.id}")).json()["volumes"]
    assert {v["id"] for v in other} == mine


def test_a_types_backend_name_picks_the_hosts(admin_client, admin_project, member_client, demo, volume_host_a):
    """A type's volume_backend_name only lands on hosts of that back end (named after the driver:
    `file` here); none: the volume is in error with a user message (tempest test_user_messages)."""
    for name, backend in (("here", "file"), ("nowhere", "xxxyyyzzz")):
        resp = admin_client.post(url(admin_project, "types"), {"volume_type": {
            "name": name, "extra_specs": {"volume_backend_name": backend}}}, format="json")
        assert resp.status_code == 200, resp.content
    assert create(member_client, demo, volume_type="here")["status"] == "creating"
    failed = create(member_client, demo, volume_type="nowhere")
    shown = member_client.get(url(demo, f"volumes/{failed['id']}")).json()["volume"]
    assert shown["status"] == "error"
    messages = member_client.get(url(demo, "messages"), HTTP_OPENSTACK_API_VERSION="volume 3.3").json()["messages"]
    assert [m["resource_uuid"] for m in messages] == [failed["id"]]


def test_retype_without_migration(admin_client, admin_project, member_client, demo, volume_host_a):
    """tempest test_available_volume_retype / test_volume_crud_with_volume_type_and_extra_specs:
    the type changes, the host stays; a type of another back end is a 400 (no migration here)."""
    for name, specs in (("one", {}), ("two", {"volume_backend_name": "file"}), ("far", {"volume_backend_name": "lvm"})):
        assert admin_client.post(url(admin_project, "types"), {"volume_type": {"name": name, "extra_specs": specs}},
                                 format="json").status_code == 200
    volume_id = available(member_client, demo, volume_type="one")
    body = {"os-retype": {"new_type": "two", "migration_policy": "never"}}
    assert action(member_client, demo, volume_id, body).status_code == 202
    shown = admin_client.get(url(admin_project, f"volumes/{volume_id}")).json()["volume"]
    assert shown["volume_type"] == "two" and shown["os-vol-host-attr:host"] == "vol-a@file#file"
    for bad in ({"os-retype": {"new_type": "far", "migration_policy": "on-demand"}},
                {"os-retype": {"new_type": "one", "migration_policy": "sometimes"}}, {"os-retype": {}}):
        error(action(member_client, demo, volume_id, bad), 400, "badRequest")
    error(action(member_client, demo, volume_id, {"os-retype": {"new_type": "nope"}}), 404, "itemNotFound")
    assert member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]["volume_type"] == "two"


def test_a_types_capabilities_pick_the_hosts(admin_client, admin_project, member_client, demo, volume_host_a):
    """Cinder's capabilities filter (tempest test_user_messages asks for a vendor and protocol no
    back end has): vendor_name, storage_protocol and driver_version extra specs must match what
    the host's back end reports (get_pools), scoped or not; `<in>` and `<or>` values too."""
    cases = (("ours", {"vendor_name": "cloudproj", "storage_protocol": "file"}, "creating"),
             ("scoped", {"capabilities:storage_protocol": "<or> iSCSI <or> file"}, "creating"),
             ("bogus", {"vendor_name": "tempest-vendor", "storage_protocol": "tempest-proto"}, "error"),
             ("iscsi", {"capabilities:storage_protocol": "iSCSI"}, "error"),
             ("free", {"vendor_name": "<in> cloud", "colour": "red"}, "creating"))
    caps = admin_client.get(url(admin_project, "scheduler-stats/get_pools?detail=True")).json()["pools"][0]
    assert (caps["capabilities"]["vendor_name"], caps["capabilities"]["storage_protocol"]) == ("cloudproj", "file")
    for name, specs, status in cases:
        resp = admin_client.post(url(admin_project, "types"), {"volume_type": {"name": name, "extra_specs": specs}},
                                 format="json")
        assert resp.status_code == 200, resp.content
        volume = create(member_client, demo, volume_type=name)
        shown = member_client.get(url(demo, f"volumes/{volume['id']}")).json()["volume"]
        assert shown["status"] == status, name
    # a retype to a type the back end cannot serve is refused (no migration here)
    Volume.objects.filter(uuid=volume["id"]).update(status="available", driver="file")
    refused = admin_client.post(url(admin_project, f"volumes/{volume['id']}/action"), {"os-retype": {"new_type": "iscsi"}},
                                format="json")
    assert refused.status_code == 400 and "capabilities" in refused.json()["badRequest"]["message"]


def test_update_readonly_flag(member_client, demo, volume_host_a, server):
    """tempest's test_volume_readonly_update: the flag in the volume's metadata ("True"/"False");
    an attach of a read-only volume is read-only ("ro"), refused as "rw"."""
    volume_id = available(member_client, demo)
    assert "readonly" not in member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]["metadata"]
    for flag, shown in ((True, "True"), (False, "False"), ("true", "True")):
        assert action(member_client, demo, volume_id, {"os-update_readonly_flag": {"readonly": flag}}).status_code == 202
        assert member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]["metadata"]["readonly"] == shown
    for bad in ({"os-update_readonly_flag": {"readonly": "maybe"}}, {"os-update_readonly_flag": {}},
                {"os-update_readonly_flag": "x"}):
        error(action(member_client, demo, volume_id, bad), 400, "badRequest")
    rw = {"os-attach": {"instance_uuid": str(server.uuid), "mountpoint": "/dev/vdb"}}
    assert "read-only" in error(action(member_client, demo, volume_id, rw), 400, "badRequest")
    ro = {"os-attach": {"instance_uuid": str(server.uuid), "mountpoint": "/dev/vdb", "mode": "ro"}}
    assert action(member_client, demo, volume_id, ro).status_code == 202
    shown = member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]
    assert shown["metadata"] == {"readonly": "True", "attached_mode": "ro"}
    # only an available volume's flag changes (Cinder)
    message = error(action(member_client, demo, volume_id, {"os-update_readonly_flag": {"readonly": False}}), 400,
                    "badRequest")
    assert "must be available" in message


def test_a_read_only_attachment_is_a_read_only_disk(member_client, demo, volume_host_a, server):
    """The host side: the disk a read-only volume is attached as, and the one a server's domain is
    redefined with, carry libvirt's <readonly/>; others do not."""
    import xml.etree.ElementTree as ET

    from compute.virt import volume_attach
    from volumes.services import attachments_host

    volume = Volume.objects.get(uuid=available(member_client, demo))
    connection = {"kind": "file", "path": "/var/lib/cloud/volumes/volume-0000000a.raw", "format": "raw"}
    attachment = VolumeAttachment.objects.create(volume=volume, instance_uuid=server.uuid, instance_host="vol-a",
                                                 device="/dev/vdb", connection=connection, attach_mode="ro")
    attachment.attached_at = attachment.created_at
    attachment.save()
    (disk,) = attachments_host.disks_of_instance(server)
    assert disk["readonly"] is True
    xml = ET.fromstring(volume_attach.disk_xml(attachments_host._connection_of(attachment), "vdb", "s"))
    assert xml.find("readonly") is not None
    VolumeAttachment.objects.filter(pk=attachment.pk).update(attach_mode="rw")
    (disk,) = attachments_host.disks_of_instance(server)
    assert "readonly" not in disk
    assert ET.fromstring(volume_attach.disk_xml(disk, "vdb", "s")).find("readonly") is None


def test_volume_upload_image(member_client, demo, volume_host_a, paths, tmp_path):
    """tempest's test_volume_upload: a new image of the caller's project, filled by the volume's
    host with the volume's data in the asked disk format (real qemu-img and file driver); the
    volume is uploading meanwhile, then available again."""
    import subprocess

    from images.models import Image

    volume_id = available(member_client, demo)
    volume = Volume.objects.get(uuid=volume_id)
    storage = tmp_path / "volumes"
    (raw,) = [p for p in storage.iterdir() if volume.storage_name in p.name]
    with open(raw, "r+b") as disk:
        disk.write(b"marker-of-the-volume")
    body = {"os-volume_upload_image": {"image_name": "from-volume", "disk_format": "qcow2"}}
    resp = action(member_client, demo, volume_id, body)
    assert resp.status_code == 202, resp.content
    answer = resp.json()["os-volume_upload_image"]
    assert answer["id"] == volume_id and answer["status"] == "uploading" and answer["size"] == 1
    assert (answer["image_name"], answer["disk_format"], answer["container_format"]) == ("from-volume", "qcow2",
                                                                                        "bare")
    assert answer["visibility"] == "private" and answer["protected"] is False
    assert answer["volume_type"]["name"] == "__DEFAULT__" and answer["volume_type"]["deleted"] is False
    assert status(member_client, demo, volume_id) == "uploading"
    image = member_client.get(f"/image/v2/images/{answer['image_id']}").json()
    assert image["status"] == "queued" and image["owner"] == demo.id
    # busy: no second upload, no delete
    error(action(member_client, demo, volume_id, body), 400, "badRequest")
    assert volume_host.upload_to_image(volume.id, answer["image_id"]) == "available"
    assert status(member_client, demo, volume_id) == "available"
    image = member_client.get(f"/image/v2/images/{answer['image_id']}").json()
    assert image["status"] == "active" and image["disk_format"] == "qcow2" and image["name"] == "from-volume"
    assert image["virtual_size"] == 1024 ** 3
    data = tmp_path / "image.qcow2"
    data.write_bytes(member_client.get(f"/image/v2/images/{answer['image_id']}/file").getvalue())
    out = tmp_path / "image.raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(data), str(out)], check=True)
    assert out.read_bytes()[:20] == b"marker-of-the-volume"
    assert Image.objects.get(id=answer["image_id"]).owner_id == demo.id


def test_volume_upload_image_refusals(member_client, demo, volume_host_a, paths, server):
    volume_id = available(member_client, demo)
    for bad in ({"os-volume_upload_image": {}}, {"os-volume_upload_image": {"image_name": ""}},
                {"os-volume_upload_image": {"image_name": "x", "disk_format": "iso"}},
                {"os-volume_upload_image": {"image_name": "x", "force": "maybe"}},
                {"os-volume_upload_image": {"image_name": "x", "visibility": "everyone"}},
                {"os-volume_upload_image": "x"}):
        error(action(member_client, demo, volume_id, bad), 400, "badRequest")
    assert status(member_client, demo, volume_id) == "available"
    attach = {"os-attach": {"instance_uuid": str(server.uuid), "mountpoint": "/dev/vdb"}}
    assert action(member_client, demo, volume_id, attach).status_code == 202
    upload = {"os-volume_upload_image": {"image_name": "x"}}
    assert "in-use" in error(action(member_client, demo, volume_id, upload), 400, "badRequest")
    forced = {"os-volume_upload_image": {"image_name": "x", "force": True}}
    assert action(member_client, demo, volume_id, forced).json()["os-volume_upload_image"]["status"] == "uploading"
