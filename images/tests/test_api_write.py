"""Image v2 write side through the API: create, upload/download, patch, delete, protected,
deactivate/reactivate, members and visibility."""
import hashlib
import subprocess

import pytest

from images.services import registry

from images.drivers import store
from images.models import Image

pytestmark = pytest.mark.django_db
PATCH = "application/openstack-images-v2.1-json-patch"


def create(client, **body):
    body = {"name": "img", "disk_format": "raw", "container_format": "bare", **body}
    resp = client.post("/image/v2/images", body, format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()


def put_file(client, image_id, data: bytes, **extra):
    return client.generic("PUT", f"/image/v2/images/{image_id}/file", data,
                          content_type="application/octet-stream", **extra)


def download(client, image_id):
    resp = client.get(f"/image/v2/images/{image_id}/file")
    return resp, b"".join(resp.streaming_content) if resp.status_code == 200 else b""


def patch(client, image_id, ops):
    import json

    return client.generic("PATCH", f"/image/v2/images/{image_id}", json.dumps(ops), content_type=PATCH)


def test_create_upload_download_round_trip(member_client, member_account, raw_file):
    body = create(member_client, name="disk", architecture="x86_64", min_ram=64, tags=["a", "a", "b"])
    assert body["status"] == "queued" and body["visibility"] == "shared" and body["size"] is None
    assert body["owner"] == member_account[1].id and body["architecture"] == "x86_64"
    assert body["min_ram"] == 64 and body["tags"] == ["a", "b"]
    data = raw_file.read_bytes()
    assert put_file(member_client, body["id"], data).status_code == 204
    shown = member_client.get(f"/image/v2/images/{body['id']}").json()
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_algo"] == "sha256" and shown["os_hash_value"] == hashlib.sha256(data).hexdigest()
    resp, got = download(member_client, body["id"])
    assert resp.status_code == 200 and got == data
    assert resp["Content-MD5"] == shown["checksum"] and resp["Content-Length"] == str(len(data))
    # data only once
    assert put_file(member_client, body["id"], data).status_code == 409


def test_upload_is_streamed_in_chunks(member_client, monkeypatch):
    """The view hands the store a stream, never the whole body."""
    seen = []
    real_write = store.write

    def spy(image_id, source, max_size=None):
        assert hasattr(source, "read") or not isinstance(source, (bytes, bytearray))
        seen.append(type(source).__name__)
        return real_write(image_id, source, max_size)

    monkeypatch.setattr(store, "write", spy)
    body = create(member_client)
    assert put_file(member_client, body["id"], b"x" * 300_000).status_code == 204
    assert seen == ["_LengthBody"]


def test_chunked_body_is_decoded(member_client):
    from io import BytesIO

    body = create(member_client)
    payload = b"hello " * 5000
    framed = b""
    for i in range(0, len(payload), 7000):
        piece = payload[i:i + 7000]
        framed += b"%x\r\n" % len(piece) + piece + b"\r\n"
    framed += b"0\r\n\r\n"
    resp = member_client.generic("PUT", f"/image/v2/images/{body['id']}/file", b"",
                                 content_type="application/octet-stream",
                                 HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": BytesIO(framed)})
    assert resp.status_code == 204, resp.content
    image = Image.objects.get(id=body["id"])
    assert image.status == "active" and image.size == len(payload)
    assert image.os_hash_value == hashlib.sha256(payload).hexdigest()


def test_interrupted_upload_kills_the_image(member_client):
    from io import BytesIO

    body = create(member_client)
    resp = member_client.generic("PUT", f"/image/v2/images/{body['id']}/file", b"",
                                 content_type="application/octet-stream",
                                 HTTP_TRANSFER_ENCODING="chunked",
                                 **{"wsgi.input": BytesIO(b"10000\r\n" + b"x" * 100)})
    assert resp.status_code == 400 and "did not complete" in resp.json()["badRequest"]["message"]
    image = Image.objects.get(id=body["id"])
    assert image.status == "killed" and not store.exists(image.id)
    assert download(member_client, body["id"])[0].status_code == 204


def test_qcow2_with_backing_file_is_refused(member_client, tmp_path):
    backing = tmp_path / "secret"
    backing.write_bytes(b"host secret" * 100)
    evil = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(backing), str(evil)],
                   check=True)
    body = create(member_client, disk_format="qcow2")
    resp = put_file(member_client, body["id"], evil.read_bytes())
    assert resp.status_code == 400
    assert "backing file" in resp.json()["badRequest"]["message"]
    assert Image.objects.get(id=body["id"]).status == "killed"


def test_qcow2_with_external_data_file_is_refused(member_client, tmp_path):
    evil = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", f"data_file={tmp_path / 'data'}",
                    str(evil), "1M"], check=True)
    body = create(member_client, disk_format="qcow2")
    resp = put_file(member_client, body["id"], evil.read_bytes())
    assert resp.status_code == 400 and "data file" in resp.json()["badRequest"]["message"]


def test_format_must_match(member_client, qcow2_file):
    body = create(member_client, disk_format="raw")
    resp = put_file(member_client, body["id"], qcow2_file.read_bytes())
    assert resp.status_code == 400 and "'qcow2', not 'raw'" in resp.json()["badRequest"]["message"]
    good = create(member_client, disk_format="qcow2")
    assert put_file(member_client, good["id"], qcow2_file.read_bytes()).status_code == 204
    assert Image.objects.get(id=good["id"]).virtual_size == 64 * 1024 * 1024


def test_patch_properties_and_fields(member_client):
    body = create(member_client, hypervisor_type="qemu")
    resp = patch(member_client, body["id"], [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/os_distro", "value": "debian"},
        {"op": "remove", "path": "/hypervisor_type"},
        {"op": "replace", "path": "/min_disk", "value": 2},
        {"op": "add", "path": "/tags", "value": ["x"]},
    ])
    assert resp.status_code == 200, resp.content
    got = resp.json()
    assert got["name"] == "renamed" and got["os_distro"] == "debian" and "hypervisor_type" not in got
    assert got["min_disk"] == 2 and got["tags"] == ["x"]
    assert patch(member_client, body["id"], [{"op": "replace", "path": "/status", "value": "active"}]).status_code == 403
    assert patch(member_client, body["id"], [{"op": "remove", "path": "/nope"}]).status_code == 409
    assert patch(member_client, body["id"], [{"op": "add", "path": "/kernel_id", "value": "bogus"}]).status_code == 400
    resp = member_client.generic("PATCH", f"/image/v2/images/{body['id']}", "[]", content_type="application/json")
    assert resp.status_code == 415 and resp.json()["badMediaType"]["code"] == 415
    assert patch(member_client, body["id"], [{"op": "replace", "path": "/disk_format", "value": "bogus"}]).status_code == 400
    assert patch(member_client, body["id"], [{"op": "replace", "path": "/disk_format", "value": "qcow2"}]).status_code == 200


def test_visibility_rules(member_client, admin_client):
    assert member_client.post("/image/v2/images", {"name": "p", "visibility": "public"},
                              format="json").status_code == 403
    body = create(member_client, visibility="community")
    assert patch(member_client, body["id"], [{"op": "replace", "path": "/visibility", "value": "public"}]).status_code == 403
    assert patch(admin_client, body["id"], [{"op": "replace", "path": "/visibility", "value": "public"}]).status_code == 200
    assert member_client.get(f"/image/v2/images/{body['id']}").json()["visibility"] == "public"


def test_ownerless_public_image_is_not_writable_by_members(member_client, raw_file):
    image = registry.register_image(raw_file, "cloud", "raw", visibility="public")
    assert patch(member_client, image.id, [{"op": "replace", "path": "/name", "value": "x"}]).status_code == 403
    assert member_client.delete(f"/image/v2/images/{image.id}").status_code == 403
    assert put_file(member_client, image.id, b"x").status_code == 403


def test_delete_and_protected(member_client):
    body = create(member_client, protected=True)
    resp = member_client.delete(f"/image/v2/images/{body['id']}")
    assert resp.status_code == 403 and "protected" in resp.json()["forbidden"]["message"]
    assert patch(member_client, body["id"], [{"op": "replace", "path": "/protected", "value": False}]).status_code == 200
    assert member_client.delete(f"/image/v2/images/{body['id']}").status_code == 204
    assert member_client.get(f"/image/v2/images/{body['id']}").status_code == 404
    assert member_client.delete(f"/image/v2/images/{body['id']}").status_code == 404


def test_deactivate_and_reactivate(admin_client, member_client, member_account, raw_file, make_account):
    image = registry.register_image(raw_file, "d", "raw", owner=member_account[1], visibility="public")
    # Glance's defaults: admins and the image's project members; another project's member is refused
    from cloudproj.testing.clients import TokenClient

    stranger = TokenClient(make_account("other", "member")[2])
    assert stranger.post(f"/image/v2/images/{image.id}/actions/deactivate").status_code == 403
    assert member_client.post(f"/image/v2/images/{image.id}/actions/deactivate").status_code == 204
    assert member_client.post(f"/image/v2/images/{image.id}/actions/reactivate").status_code == 204
    assert admin_client.post(f"/image/v2/images/{image.id}/actions/deactivate").status_code == 204
    assert member_client.get(f"/image/v2/images/{image.id}").json()["status"] == "deactivated"
    assert download(member_client, image.id)[0].status_code == 403
    assert download(admin_client, image.id)[0].status_code == 200
    assert admin_client.post(f"/image/v2/images/{image.id}/actions/reactivate").status_code == 204
    assert download(member_client, image.id)[1] == raw_file.read_bytes()
    queued = create(member_client)
    assert admin_client.post(f"/image/v2/images/{queued['id']}/actions/deactivate").status_code == 403


def test_members_of_shared_images(member_client, make_account):
    _, other, other_token = make_account("other", "member")
    from cloudproj.testing.clients import TokenClient

    other_client = TokenClient(other_token)
    body = create(member_client, name="offered")
    url = f"/image/v2/images/{body['id']}/members"
    assert other_client.get(f"/image/v2/images/{body['id']}").status_code == 404
    resp = member_client.post(url, {"member": other.id}, format="json")
    assert resp.status_code == 200 and resp.json()["status"] == "pending"
    assert member_client.post(url, {"member": other.id}, format="json").status_code == 409
    assert member_client.post(url, {"member": "no-such-project"}, format="json").status_code == 404
    # the member sees it by id, but lists it only once accepted
    assert other_client.get(f"/image/v2/images/{body['id']}").status_code == 200
    assert other_client.get("/image/v2/images").json()["images"] == []
    listed = other_client.get("/image/v2/images?member_status=pending").json()["images"]
    assert [i["name"] for i in listed] == ["offered"]
    # only the member accepts
    assert member_client.put(f"{url}/{other.id}", {"status": "accepted"}, format="json").status_code == 403
    resp = other_client.put(f"{url}/{other.id}", {"status": "accepted"}, format="json")
    assert resp.status_code == 200 and resp.json()["status"] == "accepted"
    assert [i["name"] for i in other_client.get("/image/v2/images").json()["images"]] == ["offered"]
    assert [m["member_id"] for m in member_client.get(url).json()["members"]] == [other.id]
    # a member cannot add members; the owner removes it
    assert other_client.post(url, {"member": other.id}, format="json").status_code == 403
    assert member_client.delete(f"{url}/{other.id}").status_code == 204
    assert other_client.get(f"/image/v2/images/{body['id']}").status_code == 404
    # private images have no members
    private = create(member_client, visibility="private")
    assert member_client.post(f"/image/v2/images/{private['id']}/members", {"member": other.id},
                              format="json").status_code == 403


def test_size_cap(member_client, settings):
    settings.IMAGE_SIZE_CAP = 1000
    body = create(member_client)
    resp = put_file(member_client, body["id"], b"x" * 1001)
    assert resp.status_code == 413
    assert Image.objects.get(id=body["id"]).status == "killed"


@pytest.mark.parametrize("body, message", [
    ({"name": 5}, "Image name must be a string."),
    ({"name": "x", "disk_format": ["raw"], "container_format": "bare"}, "must be strings"),
    ({"name": "x", "os_distro": {"a": 1}}, "Property os_distro must be a string, not dict."),
    ({"name": "x", "hw_flag": True}, "Property hw_flag must be a string, not bool."),
])
def test_wrongly_typed_fields_are_a_400(member_client, body, message):
    response = member_client.post("/image/v2/images", body, format="json")
    assert response.status_code == 400, response.content
    assert message in response.json()["badRequest"]["message"]
    assert not Image.objects.filter(name="x").exists()


def test_patch_with_a_non_string_property_is_a_400_and_changes_nothing(member_client):
    image = create(member_client)
    response = patch(member_client, image["id"], [{"op": "add", "path": "/os_distro", "value": {"a": 1}}])
    assert response.status_code == 400, response.content
    assert "os_distro" not in Image.objects.get(id=image["id"]).properties


def test_admin_sets_any_owner_members_cannot(admin_client, member_client, member_account):
    """Glance: an admin may create an image for any project id and change its owner later (tempest's
    BasicOperationsImagesAdminTest); a member gets a 403 for another project, its own id is fine."""
    stranger = "f" * 32  # a project this cloud does not know, as tempest's random ids
    body = create(admin_client, name="given", container_format="bare", disk_format="raw", owner=stranger)
    assert body["owner"] == stranger and "owner" not in body.get("properties", {})
    assert admin_client.get(f"/image/v2/images/{body['id']}").json()["owner"] == stranger
    changed = patch(admin_client, body["id"], [{"op": "replace", "path": "/owner", "value": member_account[1].id}])
    assert changed.status_code == 200 and changed.json()["owner"] == member_account[1].id
    # now the member's: it sees the image and cannot hand it on
    assert member_client.get(f"/image/v2/images/{body['id']}").status_code == 200
    refused = patch(member_client, body["id"], [{"op": "replace", "path": "/owner", "value": stranger}])
    assert refused.status_code == 403
    bad = patch(admin_client, body["id"], [{"op": "replace", "path": "/owner", "value": "x" * 65}])
    assert bad.status_code == 400

    response = member_client.post("/image/v2/images", {"name": "theirs", "owner": stranger}, format="json")
    assert response.status_code == 403
    own = member_client.post("/image/v2/images", {"name": "mine", "owner": member_account[1].id}, format="json")
    assert own.status_code == 201 and own.json()["owner"] == member_account[1].id
