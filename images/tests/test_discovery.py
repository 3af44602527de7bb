"""Image API v2: schemas, image tags, /v2/info/*, reserved os_glance_* properties."""
import json

import pytest

pytestmark = pytest.mark.django_db
PATCH = "application/openstack-images-v2.1-json-patch"
SCHEMAS = ("image", "images", "member", "members", "metadefs/namespace", "metadefs/namespaces",
           "metadefs/object", "metadefs/objects", "metadefs/property", "metadefs/properties", "metadefs/tag",
           "metadefs/tags", "metadefs/resource_type", "metadefs/resource_types")


def create(client, **body):
    body = {"name": "img", "disk_format": "raw", "container_format": "bare", **body}
    resp = client.post("/image/v2/images", body, format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()


def patch(client, image_id, ops):
    return client.generic("PATCH", f"/image/v2/images/{image_id}", json.dumps(ops), content_type=PATCH)


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_schema_is_served(member_client, name):
    resp = member_client.get(f"/image/v2/schemas/{name}")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    expected = name.split("/")[-1]
    if expected.startswith("resource_type"):  # Glance names these after the association
        expected = expected.replace("resource_type", "resource_type_association")
    assert body["name"] == expected
    assert isinstance(body["properties"], dict) and body["properties"]


def test_image_schema_describes_this_clouds_images(member_client):
    schema = member_client.get("/image/v2/schemas/image").json()
    props = schema["properties"]
    assert schema["name"] == "image" and schema["additionalProperties"] == {"type": "string"}
    assert set(props["visibility"]["enum"]) == {"public", "private", "shared", "community"}
    assert props["disk_format"]["enum"][0] is None and "qcow2" in props["disk_format"]["enum"]
    assert "vhd" not in props["disk_format"]["enum"]  # not accepted here, so not announced
    assert props["id"]["pattern"].startswith("^([0-9a-fA-F]){8}")
    # every field of a real image is described by the schema
    image = create(member_client)
    assert set(image) <= set(props)
    images = member_client.get("/image/v2/schemas/images").json()
    assert images["properties"]["images"]["items"]["properties"]["visibility"] == props["visibility"]
    assert {"rel": "next", "href": "{next}"} in images["links"]


def test_member_schemas(member_client):
    member = member_client.get("/image/v2/schemas/member").json()
    assert member["name"] == "member"
    assert member["properties"]["status"]["enum"] == ["pending", "accepted", "rejected"]
    members = member_client.get("/image/v2/schemas/members").json()
    assert members["properties"]["members"]["items"]["name"] == "member"


def test_unknown_schema_is_404_and_schemas_need_a_token(member_client, anon_client):
    resp = member_client.get("/image/v2/schemas/nope")
    assert resp.status_code == 404 and resp.json()["itemNotFound"]["code"] == 404
    assert anon_client.get("/image/v2/schemas/image").status_code == 401


def test_tags_add_and_remove(member_client):
    image = create(member_client)
    url = f"/image/v2/images/{image['id']}/tags"
    assert member_client.put(f"{url}/blue").status_code == 204
    assert member_client.put(f"{url}/blue").status_code == 204  # idempotent
    assert member_client.put(f"{url}/green").status_code == 204
    assert member_client.get(f"/image/v2/images/{image['id']}").json()["tags"] == ["blue", "green"]
    assert member_client.get("/image/v2/images?tag=green").json()["images"][0]["id"] == image["id"]
    assert member_client.delete(f"{url}/blue").status_code == 204
    assert member_client.get(f"/image/v2/images/{image['id']}").json()["tags"] == ["green"]
    resp = member_client.delete(f"{url}/blue")
    assert resp.status_code == 404 and resp.json()["itemNotFound"]["code"] == 404


def test_tag_limits_and_refusals(member_client, other_client, settings):
    image = create(member_client)
    url = f"/image/v2/images/{image['id']}/tags"
    resp = member_client.put(f"{url}/{'x' * 256}")
    assert resp.status_code == 400 and resp.json()["badRequest"]["code"] == 400
    assert member_client.put(f"{url}/{'x' * 255}").status_code == 204
    for i in range(127):
        assert member_client.put(f"{url}/t{i}").status_code == 204
    resp = member_client.put(f"{url}/one-too-many")
    assert resp.status_code == 413
    assert len(member_client.get(f"/image/v2/images/{image['id']}").json()["tags"]) == 128
    # another project: the image is not visible (404); a public image is, but not theirs (403)
    assert other_client.put(f"{url}/x").status_code == 404
    assert member_client.put("/image/v2/images/00000000-0000-0000-0000-000000000000/tags/x").status_code == 404


def test_tag_on_a_public_image_of_another_project_is_403(admin_client, member_client):
    image = create(admin_client, visibility="public")
    resp = member_client.put(f"/image/v2/images/{image['id']}/tags/mine")
    assert resp.status_code == 403 and resp.json()["forbidden"]["code"] == 403


def test_info_import_stores_usage(member_client, anon_client):
    body = member_client.get("/image/v2/info/import").json()
    assert body == {"import-methods": {"description": "Import methods available.", "type": "array", "value": []}}
    stores = member_client.get("/image/v2/info/stores").json()["stores"]
    assert stores == [{"id": "local", "description": "Local file store of the image service", "default": "true"}]
    create(member_client)
    usage = member_client.get("/image/v2/info/usage").json()["usage"]
    assert usage["image_count_total"] == {"limit": -1, "usage": 1}
    assert set(usage) == {"image_size_total", "image_count_total", "image_stage_total", "image_count_uploading"}
    assert anon_client.get("/image/v2/info/import").status_code == 401


def test_reserved_properties_are_403(member_client):
    resp = member_client.post("/image/v2/images", {"name": "x", "os_glance_import_task": "t"}, format="json")
    assert resp.status_code == 403 and "reserved" in resp.json()["forbidden"]["message"]
    image = create(member_client)
    resp = patch(member_client, image["id"], [{"op": "add", "path": "/os_glance_foo", "value": "x"}])
    assert resp.status_code == 403 and resp.json()["forbidden"]["code"] == 403
    resp = patch(member_client, image["id"], [{"op": "remove", "path": "/os_glance_foo"}])
    assert resp.status_code == 403
    # all or nothing: a good op before the refused one is not applied
    resp = patch(member_client, image["id"], [{"op": "add", "path": "/color", "value": "red"},
                                              {"op": "add", "path": "/os_glance_x", "value": "x"}])
    assert resp.status_code == 403
    assert "color" not in member_client.get(f"/image/v2/images/{image['id']}").json()
    assert len(member_client.get("/image/v2/images").json()["images"]) == 1


def test_patch_json_patch_semantics(member_client):
    image = create(member_client, color="red")
    url = f"/image/v2/images/{image['id']}"
    resp = patch(member_client, image["id"], [{"op": "replace", "path": "/color", "value": "blue"},
                                              {"op": "add", "path": "/size_hint", "value": "1"},
                                              {"op": "replace", "path": "/name", "value": "renamed"}])
    assert resp.status_code == 200
    body = resp.json()
    assert body["color"] == "blue" and body["size_hint"] == "1" and body["name"] == "renamed"
    assert patch(member_client, image["id"], [{"op": "replace", "path": "/nope", "value": "x"}]).status_code == 409
    assert patch(member_client, image["id"], [{"op": "replace", "path": "/status", "value": "active"}]).status_code == 403
    resp = member_client.generic("PATCH", url, json.dumps([]), content_type="application/json")
    assert resp.status_code == 415


def test_patch_draft10_media_type(member_client):
    """application/openstack-images-v2.0-json-patch ({"replace": "/name", "value": ...}), as
    tempest sends it."""
    image = create(member_client, color="red")
    url = f"/image/v2/images/{image['id']}"
    d10 = "application/openstack-images-v2.0-json-patch"
    ops = [{"replace": "/name", "value": "new"}, {"add": "/shape", "value": "round"}, {"remove": "/color"}]
    resp = member_client.generic("PATCH", url, json.dumps(ops), content_type=d10)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["name"] == "new" and body["shape"] == "round" and "color" not in body
    resp = member_client.generic("PATCH", url, json.dumps([{"add": "/os_glance_foo", "value": "bar"}]),
                                 content_type=d10)
    assert resp.status_code == 403
    resp = member_client.generic("PATCH", url, json.dumps([{"add": "/a", "replace": "/b", "value": 1}]),
                                 content_type=d10)
    assert resp.status_code == 400 and resp.json()["badRequest"]["code"] == 400


def test_kernel_and_ramdisk_ids_as_glance_validates_them(member_client, admin_client):
    """A UUID naming no image is accepted (Glance's schema checks the pattern only; tempest
    registers an image with ramdisk_id 00000000-1111-2222-3333-444455556666); a non-UUID, or
    an existing image of another format, is a 400."""
    uuid = "00000000-1111-2222-3333-444455556666"
    image = create(member_client, ramdisk_id=uuid, visibility="private")
    assert image["ramdisk_id"] == uuid
    resp = member_client.post("/image/v2/images", {"name": "x", "kernel_id": "not-a-uuid"}, format="json")
    assert resp.status_code == 400
    resp = member_client.post("/image/v2/images", {"name": "x", "kernel_id": image["id"]}, format="json")
    assert resp.status_code == 400 and "aki" in resp.json()["badRequest"]["message"]
