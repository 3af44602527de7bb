"""Block Storage v3 as documented: bodies field for field (tempest's response schemas), list
parameters and their 400s, microversion negotiation (3.0-3.7) and each step, os-set_bootable, volume types
with extra specs and the default type, extensions and capabilities (DRF test client; the
host's part is done by calling volumes.services.host, as the agent would)."""
import pytest

from cloudproj.testing.volumes import create, url
from volumes.api.common import MAX_VERSION
from volumes.models import Volume
from volumes.services import host as volume_host

pytestmark = pytest.mark.django_db

# tempest.lib.api_schema.response.volume.volumes: what a member sees (admins see ADMIN_KEYS more)
VOLUME_KEYS = {
    "id", "name", "links", "status", "size", "availability_zone", "created_at", "updated_at", "description",
    "attachments", "bootable", "encrypted", "multiattach", "snapshot_id", "source_volid", "volume_type",
    "metadata", "user_id", "consistencygroup_id", "replication_status", "migration_status",
}
# show and the detailed list also have the project (Cinder's reader default since Xena); the
# create and update answers do not (tempest's create schema)
SHOW_KEYS = VOLUME_KEYS | {"os-vol-tenant-attr:tenant_id"}
ADMIN_KEYS = {"os-vol-host-attr:host", "os-vol-mig-status-attr:migstat", "os-vol-mig-status-attr:name_id"}
SNAPSHOT_KEYS = {"id", "name", "description", "volume_id", "size", "status", "created_at", "updated_at", "metadata"}
SNAPSHOT_DETAIL_KEYS = SNAPSHOT_KEYS | {"os-extended-snapshot-attributes:project_id",
                                        "os-extended-snapshot-attributes:progress"}
TYPE_KEYS = {"id", "name", "description", "is_public", "os-volume-type-access:is_public", "extra_specs",
             "qos_specs_id"}


def error(resp, code, name):
    assert resp.status_code == code, resp.content
    body = resp.json()
    assert body[name]["code"] == code
    return body[name]["message"]


def available(client, project, **fields):
    body = create(client, project, **fields)
    volume = Volume.objects.get(uuid=body["id"])
    assert volume_host.create_volume(volume.id) == "available"
    return body["id"]


def test_volume_bodies_are_the_documented_ones(member_client, demo, volume_host_a):
    body = create(member_client, demo, name="v")
    assert set(body) == VOLUME_KEYS
    assert body["bootable"] == "false" and body["volume_type"] == "__DEFAULT__" and body["encrypted"] is False
    volume_id = body["id"]
    shown = member_client.get(url(demo, f"volumes/{volume_id}")).json()["volume"]
    assert set(shown) == SHOW_KEYS  # no ec2_id, no host/migration attributes for a member
    assert shown["os-vol-tenant-attr:tenant_id"] == demo.id
    (row,) = member_client.get(url(demo, "volumes/detail")).json()["volumes"]
    assert set(row) == SHOW_KEYS


def test_admins_see_the_admin_attributes(admin_client, admin_project, volume_host_a):
    body = create(admin_client, admin_project, name="a")
    shown = admin_client.get(url(admin_project, f"volumes/{body['id']}")).json()["volume"]
    assert set(shown) == SHOW_KEYS | ADMIN_KEYS
    assert shown["os-vol-tenant-attr:tenant_id"] == admin_project.id
    assert shown["os-vol-host-attr:host"] == "vol-a@file#file"  # host@backend#pool, as Cinder


def test_snapshot_bodies_are_the_documented_ones(member_client, demo, volume_host_a):
    volume_id = available(member_client, demo)
    resp = member_client.post(url(demo, "snapshots"), {"snapshot": {"volume_id": volume_id, "name": "s"}},
                              format="json")
    assert resp.status_code == 202 and set(resp.json()["snapshot"]) == SNAPSHOT_KEYS
    snapshot_id = resp.json()["snapshot"]["id"]
    shown = member_client.get(url(demo, f"snapshots/{snapshot_id}")).json()["snapshot"]
    assert set(shown) == SNAPSHOT_DETAIL_KEYS and shown["os-extended-snapshot-attributes:project_id"] == demo.id
    assert [set(r) for r in member_client.get(url(demo, "snapshots")).json()["snapshots"]] == [SNAPSHOT_KEYS]
    assert [set(r) for r in member_client.get(url(demo, "snapshots/detail")).json()["snapshots"]] == [
        SNAPSHOT_DETAIL_KEYS]
    resp = member_client.put(url(demo, f"snapshots/{snapshot_id}"), {"snapshot": {"name": "t"}}, format="json")
    assert resp.status_code == 200 and set(resp.json()["snapshot"]) == SNAPSHOT_KEYS


@pytest.mark.parametrize("query", [
    "limit=x", "limit=invalid", "limit=-1", "limit=1.5", "offset=x", "sort=bogus", "sort_key=invalid",
    "sort=name:sideways", "sort_key=bogus", "sort_dir=up", "sort=name&sort_key=name",
])
@pytest.mark.parametrize("collection", ["volumes", "volumes/detail", "snapshots", "snapshots/detail"])
def test_bad_list_parameters_are_400(member_client, demo, collection, query):
    error(member_client.get(url(demo, f"{collection}?{query}")), 400, "badRequest")


@pytest.mark.parametrize("marker", ["nope", "00000000-0000-0000-0000-000000000000"])
@pytest.mark.parametrize("collection", ["volumes", "volumes/detail", "snapshots", "snapshots/detail"])
def test_an_unknown_marker_is_404(member_client, demo, collection, marker):
    # Cinder's MarkerNotFound, tempest's test_list_snapshots_invalid_param_marker
    message = error(member_client.get(url(demo, f"{collection}?marker={marker}")), 404, "itemNotFound")
    assert marker in message


def test_pagination_and_sorting(member_client, demo, volume_host_a):
    ids = [create(member_client, demo, name=name)["id"] for name in ("b", "a", "c")]
    names = [v["name"] for v in member_client.get(url(demo, "volumes?sort=name:asc")).json()["volumes"]]
    assert names == ["a", "b", "c"]
    names = [v["name"] for v in member_client.get(url(demo, "volumes?sort_key=name&sort_dir=desc")).json()["volumes"]]
    assert names == ["c", "b", "a"]
    first = member_client.get(url(demo, "volumes/detail?limit=2")).json()
    assert [v["id"] for v in first["volumes"]] == ids[::-1][:2]  # newest first
    (link,) = first["volumes_links"]
    assert link["rel"] == "next" and f"marker={ids[1]}" in link["href"] and "/volumes/detail?" in link["href"]
    rest = member_client.get(url(demo, f"volumes/detail?limit=2&marker={ids[1]}")).json()
    assert [v["id"] for v in rest["volumes"]] == [ids[0]] and "volumes_links" not in rest
    assert [v["id"] for v in member_client.get(url(demo, "volumes?offset=2")).json()["volumes"]] == [ids[0]]
    assert member_client.get(url(demo, "volumes?limit=0")).json()["volumes"] == []


def test_microversion_negotiation(member_client, demo, anon_client):
    path = url(demo, "volumes")
    latest = "%d.%d" % MAX_VERSION
    assert MAX_VERSION == (3, 7)
    assert member_client.get(path)["OpenStack-API-Version"] == "volume 3.0"  # no header: 3.0
    for asked, answered in (("3.0", "3.0"), ("3.1", "3.1"), ("3.2", "3.2"), ("3.7", "3.7"), ("latest", latest),
                            ("LATEST", latest)):
        resp = member_client.get(path, HTTP_OPENSTACK_API_VERSION=f"volume {asked}")
        assert resp.status_code == 200 and resp["OpenStack-API-Version"] == f"volume {answered}", asked
        assert resp["Vary"] == "OpenStack-API-Version"
    for asked in ("3.8", "3.60", "2.0", "4.0"):
        message = error(member_client.get(path, HTTP_OPENSTACK_API_VERSION=f"volume {asked}"), 406, "notAcceptable")
        assert "Minimum is 3.0 and maximum is 3.7" in message
    for asked in ("3", "3.x", "3.2.1", "-3.1"):
        error(member_client.get(path, HTTP_OPENSTACK_API_VERSION=f"volume {asked}"), 400, "badRequest")
    (version,) = anon_client.get("/volume/").json()["versions"]
    assert (version["min_version"], version["version"]) == ("3.0", "3.7")


def test_set_bootable_and_the_bootable_filter_before_and_after_3_2(member_client, demo, volume_host_a):
    boot = available(member_client, demo, name="boot")
    plain = available(member_client, demo, name="plain")
    resp = member_client.post(url(demo, f"volumes/{boot}/action"), {"os-set_bootable": {"bootable": True}},
                              format="json")
    assert resp.status_code == 200
    assert member_client.get(url(demo, f"volumes/{boot}")).json()["volume"]["bootable"] == "true"
    for bad in ({"os-set_bootable": {"bootable": "maybe"}}, {"os-set_bootable": {}}):
        error(member_client.post(url(demo, f"volumes/{boot}/action"), bad, format="json"), 400, "badRequest")

    def listed(query, version):
        resp = member_client.get(url(demo, f"volumes?{query}"), HTTP_OPENSTACK_API_VERSION=f"volume {version}")
        return resp, sorted(v["name"] for v in resp.json().get("volumes", []))

    assert listed("bootable=true", "3.0")[1] == ["boot"]
    assert listed("bootable=false", "3.0")[1] == ["plain"]
    assert listed("bootable=0", "3.0")[1] == ["boot"]  # before 3.2 only false/False mean non-bootable
    assert listed("bootable=0", "3.2")[1] == ["plain"]
    assert listed("bootable=T", "3.2")[1] == ["boot"]
    resp, _ = listed("bootable=maybe", "3.2")
    assert "bootable=maybe" in error(resp, 400, "badRequest")
    del plain


def test_volume_types_for_admins(admin_client, admin_project, member_client, demo, volume_host_a):
    types = url(admin_project, "types")
    (default,) = admin_client.get(types).json()["volume_types"]
    assert set(default) == TYPE_KEYS and default["name"] == "__DEFAULT__"
    assert admin_client.get(url(admin_project, "types/default")).json()["volume_type"]["id"] == default["id"]

    resp = admin_client.post(types, {"volume_type": {"name": "fast", "description": "SSD",
                                                     "extra_specs": {"volume_backend_name": "file",
                                                                     "multiattach": "<is> False"}}},
                             format="json")
    assert resp.status_code == 200, resp.content
    fast = resp.json()["volume_type"]
    # Cinder's create answer carries no qos_specs_id (tempest's create_volume_type schema)
    assert set(fast) == TYPE_KEYS - {"qos_specs_id"} and fast["is_public"] is True and fast["description"] == "SSD"
    assert fast["extra_specs"] == {"volume_backend_name": "file", "multiattach": "<is> False"}
    error(admin_client.post(types, {"volume_type": {"name": "fast"}}, format="json"), 409, "conflictingRequest")
    error(admin_client.post(types, {"volume_type": {"description": "x"}}, format="json"), 400, "badRequest")
    error(admin_client.post(types, {"volume_type": {"name": "x", "bogus": 1}}, format="json"), 400, "badRequest")
    error(admin_client.post(types, {"volume_type": {"name": "x", "extra_specs": "no"}}, format="json"),
          400, "badRequest")
    private = admin_client.post(types, {"volume_type": {"name": "secret", "os-volume-type-access:is_public": False}},
                                format="json").json()["volume_type"]
    assert private["is_public"] is False

    # members see public types and only the user-visible extra specs; they cannot manage types
    seen = member_client.get(url(demo, "types")).json()["volume_types"]
    assert sorted(t["name"] for t in seen) == ["__DEFAULT__", "fast"]
    assert next(t for t in seen if t["name"] == "fast")["extra_specs"] == {"multiattach": "<is> False"}
    error(member_client.get(url(demo, f"types/{private['id']}")), 404, "itemNotFound")
    error(member_client.post(url(demo, "types"), {"volume_type": {"name": "mine"}}, format="json"), 403, "forbidden")
    error(member_client.delete(url(demo, f"types/{fast['id']}")), 403, "forbidden")
    assert sorted(t["name"] for t in admin_client.get(f"{types}?is_public=false").json()["volume_types"]) == [
        "secret"]

    # extra specs
    specs = url(admin_project, f"types/{fast['id']}/extra_specs")
    resp = admin_client.post(specs, {"extra_specs": {"k": "v"}}, format="json")
    assert resp.status_code == 200 and resp.json() == {"extra_specs": {"k": "v"}}
    assert admin_client.get(specs).json()["extra_specs"]["k"] == "v"
    assert admin_client.get(f"{specs}/k").json() == {"k": "v"}
    assert admin_client.put(f"{specs}/k", {"k": "w"}, format="json").json() == {"k": "w"}
    error(admin_client.put(f"{specs}/k", {"other": "w"}, format="json"), 400, "badRequest")
    error(admin_client.put(f"{specs}/k", {"k": "w", "j": "x"}, format="json"), 400, "badRequest")
    assert admin_client.delete(f"{specs}/k").status_code == 202
    error(admin_client.get(f"{specs}/k"), 404, "itemNotFound")
    error(admin_client.delete(f"{specs}/k"), 404, "itemNotFound")

    # update
    resp = admin_client.put(url(admin_project, f"types/{fast['id']}"),
                            {"volume_type": {"name": "faster", "description": "NVMe"}}, format="json")
    assert resp.status_code == 200 and resp.json()["volume_type"]["name"] == "faster"
    # Cinder's update answer: neither qos_specs_id nor os-volume-type-access:is_public (tempest's schema)
    assert set(resp.json()["volume_type"]) == TYPE_KEYS - {"qos_specs_id", "os-volume-type-access:is_public"}
    error(admin_client.put(url(admin_project, f"types/{fast['id']}"), {"volume_type": {}}, format="json"),
          400, "badRequest")

    # volumes with a type (by name or id); an unknown one is a 404, as Cinder
    by_name = create(member_client, demo, volume_type="faster")
    assert by_name["volume_type"] == "faster"
    assert create(member_client, demo, volume_type=fast["id"])["volume_type"] == "faster"
    assert create(member_client, demo)["volume_type"] == "__DEFAULT__"
    error(member_client.post(url(demo, "volumes"), {"volume": {"size": 1, "volume_type": "nope"}}, format="json"),
          404, "itemNotFound")
    assert Volume.objects.filter(project_id=demo.id).count() == 3  # nothing half-written

    # a type in use and the default type cannot be deleted
    error(admin_client.delete(url(admin_project, f"types/{fast['id']}")), 400, "badRequest")
    error(admin_client.delete(url(admin_project, f"types/{default['id']}")), 400, "badRequest")
    assert admin_client.delete(url(admin_project, f"types/{private['id']}")).status_code == 202
    error(admin_client.get(url(admin_project, f"types/{private['id']}")), 404, "itemNotFound")


def test_volume_from_snapshot_keeps_the_type_and_bootable_flag(admin_client, admin_project, member_client, demo,
                                                                volume_host_a):
    admin_client.post(url(admin_project, "types"), {"volume_type": {"name": "gold"}}, format="json")
    source = available(member_client, demo, volume_type="gold")
    member_client.post(url(demo, f"volumes/{source}/action"), {"os-set_bootable": {"bootable": "true"}},
                       format="json")
    snap = member_client.post(url(demo, "snapshots"), {"snapshot": {"volume_id": source}},
                              format="json").json()["snapshot"]
    from volumes.models import Snapshot
    assert volume_host.create_snapshot(Snapshot.objects.get(uuid=snap["id"]).id) in ("available", "skipped")
    clone = create(member_client, demo, snapshot_id=snap["id"])
    assert clone["volume_type"] == "gold" and clone["bootable"] == "true"


def test_extensions_and_capabilities(member_client, demo, admin_client, admin_project, volume_host_a):
    extensions = member_client.get(url(demo, "extensions")).json()["extensions"]
    aliases = {e["alias"] for e in extensions}
    assert {"os-types-manage", "os-types-extra-specs", "os-vol-tenant-attr", "os-volume-actions"} <= aliases
    assert all(set(e) == {"alias", "name", "description", "links", "updated"} for e in extensions)
    caps = admin_client.get(url(admin_project, "capabilities/vol-a@file")).json()
    assert caps["namespace"] == "OS::Storage::Capabilities::vol-a@file"
    assert caps["volume_backend_name"] == "file" and caps["storage_protocol"] == "file"
    assert admin_client.get(url(admin_project, "capabilities/vol-a")).status_code == 200
    error(admin_client.get(url(admin_project, "capabilities/nowhere")), 404, "itemNotFound")
    error(member_client.get(url(demo, "capabilities/vol-a")), 403, "forbidden")


def test_clone_a_volume(member_client, demo, volume_host_a, settings):
    """source_volid: a copy of the source's data, on its host, its size at least the source's."""
    source = available(member_client, demo, name="src")
    src_row = Volume.objects.get(uuid=source)
    (settings.VOLUMES_PATH / f"{src_row.storage_name}.raw").write_bytes(b"data" * 1024)  # something to copy
    import subprocess

    subprocess.run(["qemu-img", "resize", "-q", "-f", "raw",
                    str(settings.VOLUMES_PATH / f"{src_row.storage_name}.raw"), "1G"], check=True)
    error(member_client.post(url(demo, "volumes"), {"volume": {"size": 1, "source_volid": "nope"}}, format="json"),
          404, "itemNotFound")
    error(member_client.post(url(demo, "volumes"), {"volume": {"source_volid": source, "snapshot_id": source}},
                             format="json"), 400, "badRequest")
    body = create(member_client, demo, source_volid=source, size=2)
    assert body["source_volid"] == source and body["size"] == 2 and set(body) == VOLUME_KEYS
    clone = Volume.objects.get(uuid=body["id"])
    assert clone.host == src_row.host
    assert volume_host.create_volume(clone.id) == "available"
    data = (settings.VOLUMES_PATH / f"{clone.storage_name}.raw")
    assert data.stat().st_size == 2 * 1024 ** 3 and data.open("rb").read(4096) == b"data" * 1024
    assert member_client.get(url(demo, f"volumes/{body['id']}")).json()["volume"]["source_volid"] == source
    # while a clone is being made, its source can be neither deleted nor extended
    pending = create(member_client, demo, source_volid=source)
    error(member_client.delete(url(demo, f"volumes/{source}")), 400, "badRequest")
    error(member_client.post(url(demo, f"volumes/{source}/action"), {"os-extend": {"new_size": 3}}, format="json"),
          400, "badRequest")
    assert volume_host.create_volume(Volume.objects.get(uuid=pending["id"]).id) == "available"
    # size defaults to the source's; smaller is refused; a busy source too
    assert create(member_client, demo, source_volid=source)["size"] == 1
    error(member_client.post(url(demo, "volumes"), {"volume": {"size": 1, "source_volid": body["id"]}},
                             format="json"), 400, "badRequest")
    Volume.objects.filter(uuid=source).update(status="extending")
    error(member_client.post(url(demo, "volumes"), {"volume": {"source_volid": source}}, format="json"),
          400, "badRequest")


def test_volume_from_an_image(member_client, demo, volume_host_a, settings, tmp_path):
    """imageRef: the volume host writes the image (from its image cache) into the volume; the
    volume is bootable and shows volume_image_metadata."""
    import io

    from images.models import Image
    from images.services.registry import register_image

    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.IMAGE_CACHE_PATH = tmp_path / "cache"
    image = register_image(io.BytesIO(b"boot" * 1024), "img", disk_format="raw", visibility=Image.PUBLIC)
    private = register_image(io.BytesIO(b"x" * 512), "hidden", disk_format="raw", visibility=Image.PRIVATE)
    body = create(member_client, demo, imageRef=str(image.id), size=1)
    # Cinder's create answer has no volume_image_metadata (tempest's create schema forbids it):
    # show and the detailed list have it
    assert body["bootable"] == "true" and set(body) == VOLUME_KEYS
    shown = member_client.get(url(demo, f"volumes/{body['id']}")).json()["volume"]
    assert set(shown) == SHOW_KEYS | {"volume_image_metadata"}
    meta = shown["volume_image_metadata"]
    assert meta["image_id"] == str(image.id) and meta["image_name"] == "img" and meta["disk_format"] == "raw"
    volume = Volume.objects.get(uuid=body["id"])
    assert volume_host.create_volume(volume.id) == "available"
    data = settings.VOLUMES_PATH / f"{volume.storage_name}.raw"
    assert data.stat().st_size == 1024 ** 3 and data.open("rb").read(4096) == b"boot" * 1024
    listed = member_client.get(url(demo, "volumes?bootable=true"), HTTP_OPENSTACK_API_VERSION="volume 3.2")
    assert [v["id"] for v in listed.json()["volumes"]] == [body["id"]]
    for bad in ({"imageRef": "nope", "size": 1}, {"imageRef": str(private.id), "size": 1},
                {"imageRef": str(image.id)}):  # another project's private image; no size
        error(member_client.post(url(demo, "volumes"), {"volume": bad}, format="json"), 400, "badRequest")
    Image.objects.filter(pk=image.pk).update(min_disk=3)
    error(member_client.post(url(demo, "volumes"), {"volume": {"imageRef": str(image.id), "size": 2}},
                             format="json"), 400, "badRequest")
    assert Volume.objects.filter(project_id=demo.id).count() == 1


MESSAGE_KEYS = {"id", "resource_type", "resource_uuid", "request_id", "message_level", "event_id", "created_at",
                "guaranteed_until", "user_message", "links"}


def test_messages_tell_why_a_volume_failed(member_client, demo, volume_host_a, settings, make_account):
    """3.3: a volume no host can take leaves a message; 3.5: messages are paginated and filtered."""
    v33 = {"HTTP_OPENSTACK_API_VERSION": "volume 3.3"}
    v35 = {"HTTP_OPENSTACK_API_VERSION": "volume 3.5"}
    error(member_client.get(url(demo, "messages")), 404, "itemNotFound")  # not at 3.0
    error(member_client.get(url(demo, "messages"), HTTP_OPENSTACK_API_VERSION="volume 3.2"), 404, "itemNotFound")
    assert member_client.get(url(demo, "messages"), **v33).json() == {"messages": []}
    too_big = create(member_client, demo, size=100)  # the host has 10 GB
    assert too_big["status"] == "error"
    # the host's driver failing: the file is in the way of the volume's temp file
    ok = create(member_client, demo, size=1)
    row = Volume.objects.get(uuid=ok["id"])
    settings.VOLUMES_PATH.mkdir(parents=True, exist_ok=True)
    (settings.VOLUMES_PATH / f"{row.storage_name}.raw.part").mkdir()
    assert volume_host.create_volume(row.id) == "error"

    resp = member_client.get(url(demo, "messages"), **v33)
    assert resp["OpenStack-API-Version"] == "volume 3.3"
    messages = resp.json()["messages"]
    assert [set(m) for m in messages] == [MESSAGE_KEYS, MESSAGE_KEYS]
    by_volume = {m["resource_uuid"]: m for m in messages}
    sched = by_volume[too_big["id"]]
    assert sched["event_id"] == "VOLUME_VOLUME_001_003" and sched["resource_type"] == "VOLUME"
    assert sched["user_message"] == "schedule allocate volume: Could not find any available weighted backend."
    assert sched["message_level"] == "ERROR" and sched["request_id"].startswith("req-")
    driver = by_volume[ok["id"]]
    assert driver["event_id"] == "VOLUME_VOLUME_008_012"
    assert member_client.get(url(demo, f"messages/{sched['id']}"), **v33).json()["message"] == sched

    # before 3.5 list parameters are not looked at; from 3.5 they are
    assert len(member_client.get(url(demo, "messages?limit=1"), **v33).json()["messages"]) == 2
    page = member_client.get(url(demo, "messages?limit=1&sort=event_id:asc"), **v35).json()
    assert [m["id"] for m in page["messages"]] == [sched["id"]] and page["messages_links"][0]["rel"] == "next"
    filtered = member_client.get(url(demo, f"messages?resource_uuid={ok['id']}"), **v35).json()["messages"]
    assert [m["id"] for m in filtered] == [driver["id"]]
    error(member_client.get(url(demo, "messages?limit=x"), **v35), 400, "badRequest")
    error(member_client.get(url(demo, "messages?sort=bogus"), **v35), 400, "badRequest")

    # another project sees none of them
    from cloudproj.testing.accounts import TokenClient

    _, other, token = make_account("other", "member")
    other_client = TokenClient(token)
    assert other_client.get(url(other, "messages"), **v33).json()["messages"] == []
    error(other_client.get(url(other, f"messages/{sched['id']}"), **v33), 404, "itemNotFound")

    assert member_client.delete(url(demo, f"messages/{sched['id']}"), **v33).status_code == 204
    error(member_client.get(url(demo, f"messages/{sched['id']}"), **v33), 404, "itemNotFound")
    error(member_client.get(url(demo, "messages/nope"), **v33), 404, "itemNotFound")


def test_glance_metadata_filter_from_3_4(member_client, demo, volume_host_a, settings, tmp_path):
    import io

    from images.models import Image
    from images.services.registry import register_image

    settings.IMAGE_STORE_PATH = tmp_path / "store"
    image = register_image(io.BytesIO(b"x" * 4096), "cirros", disk_format="raw", visibility=Image.PUBLIC)
    from_image = create(member_client, demo, imageRef=str(image.id), size=1)["id"]
    create(member_client, demo, name="empty")
    query = 'volumes?glance_metadata={"image_name": "cirros"}'
    listed = member_client.get(url(demo, query), HTTP_OPENSTACK_API_VERSION="volume 3.4").json()["volumes"]
    assert [v["id"] for v in listed] == [from_image]
    assert len(member_client.get(url(demo, query), HTTP_OPENSTACK_API_VERSION="volume 3.3").json()["volumes"]) == 2
    resp = member_client.get(url(demo, "volumes?glance_metadata=notjson"), HTTP_OPENSTACK_API_VERSION="volume 3.4")
    error(resp, 400, "badRequest")


def test_clusters_from_3_7(admin_client, admin_project, member_client, demo, volume_host_a):
    v37 = {"HTTP_OPENSTACK_API_VERSION": "volume 3.7"}
    error(admin_client.get(url(admin_project, "clusters"), HTTP_OPENSTACK_API_VERSION="volume 3.6"), 404,
          "itemNotFound")
    assert admin_client.get(url(admin_project, "clusters"), **v37).json() == {"clusters": []}
    assert admin_client.get(url(admin_project, "clusters/detail"), **v37).json() == {"clusters": []}
    error(admin_client.get(url(admin_project, "clusters/c1"), **v37), 404, "itemNotFound")
    error(admin_client.put(url(admin_project, "clusters/enable"), {"name": "c1"}, format="json", **v37),
          404, "itemNotFound")
    error(admin_client.put(url(admin_project, "clusters/enable"), {}, format="json", **v37), 400, "badRequest")
    error(member_client.get(url(demo, "clusters"), **v37), 403, "forbidden")
    services = admin_client.get(url(admin_project, "os-services"), **v37).json()["services"]
    assert services and all(s["cluster_name"] is None for s in services)
    services = admin_client.get(url(admin_project, "os-services")).json()["services"]
    assert services and all("cluster_name" not in s for s in services)


def test_extend_with_and_without_snapshots(member_client, demo, volume_host_a, settings):
    """os-extend: 202, the host grows the storage; a volume with snapshots extends too (the
    snapshot keeps its size) and a volume made from that snapshot has the snapshot's size."""
    from volumes.models import Snapshot

    plain = available(member_client, demo, name="plain")
    resp = member_client.post(url(demo, f"volumes/{plain}/action"), {"os-extend": {"new_size": 2}}, format="json")
    assert resp.status_code == 202
    row = Volume.objects.get(uuid=plain)
    assert row.status == "extending" and volume_host.extend_volume(row.id, 2) == "available"
    assert member_client.get(url(demo, f"volumes/{plain}")).json()["volume"]["size"] == 2

    snapped = available(member_client, demo, name="snapped")
    snap = member_client.post(url(demo, "snapshots"), {"snapshot": {"volume_id": snapped}},
                              format="json").json()["snapshot"]
    assert volume_host.create_snapshot(Snapshot.objects.get(uuid=snap["id"]).id) == "available"
    resp = member_client.post(url(demo, f"volumes/{snapped}/action"), {"os-extend": {"new_size": 3}}, format="json")
    assert resp.status_code == 202
    row = Volume.objects.get(uuid=snapped)
    assert volume_host.extend_volume(row.id, 3) == "available"
    assert (settings.VOLUMES_PATH / f"{row.storage_name}.raw").stat().st_size == 3 * 1024 ** 3
    assert member_client.get(url(demo, f"snapshots/{snap['id']}")).json()["snapshot"]["size"] == 1
    assert create(member_client, demo, snapshot_id=snap["id"])["size"] == 1
    for bad in ({"os-extend": {"new_size": 3}}, {"os-extend": {"new_size": "x"}}, {"os-extend": {}}):
        error(member_client.post(url(demo, f"volumes/{snapped}/action"), bad, format="json"), 400, "badRequest")
