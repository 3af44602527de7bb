"""Image v2 read side (/image/...) and the Compute images proxy (/compute/v2.1/images...)."""
import pytest

from images.services import registry

pytestmark = pytest.mark.django_db


@pytest.fixture
def images(raw_file, member_account, make_account):
    """public (cloud), private of demo, private of another project, community of another."""
    _, other, _ = make_account("other", "member")
    demo = member_account[1]
    return {
        "public": registry.register_image(raw_file, "pub", "raw", visibility="public",
                                          properties={"architecture": "x86_64"}),
        "mine": registry.register_image(raw_file, "mine", "raw", owner=demo, visibility="private"),
        "theirs": registry.register_image(raw_file, "theirs", "raw", owner=other, visibility="private"),
        "community": registry.register_image(raw_file, "comm", "raw", owner=other, visibility="community"),
    }


def names(body):
    return sorted(image["name"] for image in body["images"])


def test_versions_document_needs_no_token(anon_client):
    # Glance: 300 Multiple Choices where no version is named, 200 at /versions.
    for url, status in (("/image/", 300), ("/image/versions", 200), ("/image/v2", 300)):
        resp = anon_client.get(url)
        assert resp.status_code == status
        current = resp.json()["versions"][0]
        assert current["id"] == "v2.18" and current["status"] == "CURRENT"
        assert current["links"] == [{"rel": "self", "href": "http://testserver/image/v2/"}]


def test_versions_use_public_endpoint(anon_client, settings):
    settings.PUBLIC_ENDPOINT = "https://cloud.example.com"
    href = anon_client.get("/image/").json()["versions"][0]["links"][0]["href"]
    assert href == "https://cloud.example.com/image/v2/"


def test_list_requires_a_token(anon_client):
    assert anon_client.get("/image/v2/images").status_code == 401


def test_member_sees_public_and_own(member_client, images):
    body = member_client.get("/image/v2/images").json()
    assert names(body) == ["mine", "pub"]
    assert body["schema"] == "/v2/schemas/images" and body["first"] == "/v2/images"
    assert "next" not in body
    assert names(member_client.get("/image/v2/images?visibility=community").json()) == ["comm"]
    assert names(member_client.get("/image/v2/images?visibility=all").json()) == ["comm", "mine", "pub"]


def test_admin_sees_everything(admin_client, images):
    assert names(admin_client.get("/image/v2/images?visibility=all").json()) == ["comm", "mine", "pub", "theirs"]


def test_filters(member_client, images):
    assert names(member_client.get("/image/v2/images?name=pub").json()) == ["pub"]
    ids = f"in:{images['public'].id},{images['theirs'].id}"
    assert names(member_client.get(f"/image/v2/images?id={ids}").json()) == ["pub"]
    assert names(member_client.get("/image/v2/images?visibility=private").json()) == ["mine"]
    assert names(member_client.get("/image/v2/images?status=queued").json()) == []
    assert names(member_client.get("/image/v2/images?architecture=x86_64").json()) == ["pub"]


def test_paging_with_limit_and_marker(member_client, images):
    first = member_client.get("/image/v2/images?limit=1").json()
    assert len(first["images"]) == 1
    assert first["next"].startswith("/v2/images?") and "marker=" in first["next"]
    second = member_client.get("/image" + first["next"]).json()
    assert len(second["images"]) == 1 and "next" not in second
    assert {first["images"][0]["name"], second["images"][0]["name"]} == {"mine", "pub"}


def test_bad_parameters_are_400(member_client, images):
    resp = member_client.get("/image/v2/images?marker=00000000-0000-0000-0000-000000000000")
    assert resp.status_code == 400 and resp.json()["badRequest"]["code"] == 400
    assert member_client.get("/image/v2/images?limit=x").status_code == 400
    assert member_client.get("/image/v2/images?sort_key=bogus").status_code == 400
    assert member_client.get("/image/v2/images?visibility=bogus").status_code == 400


def test_show_fields(member_client, images, raw_file):
    image = images["public"]
    for url in (f"/image/v2/images/{image.id}", f"/image/v2/images/{image.id}/"):
        body = member_client.get(url).json()
        assert body["id"] == str(image.id) and body["name"] == "pub"
        assert body["status"] == "active" and body["visibility"] == "public"
        assert body["size"] == raw_file.stat().st_size
        assert body["checksum"] == image.checksum and body["os_hash_algo"] == "sha256"
        assert body["os_hash_value"] == image.os_hash_value
        assert body["disk_format"] == "raw" and body["container_format"] == "bare"
        assert body["architecture"] == "x86_64"  # extra properties at the top level
        assert body["self"] == f"/v2/images/{image.id}" and body["file"] == f"/v2/images/{image.id}/file"
        assert body["schema"] == "/v2/schemas/image"
        assert body["created_at"].endswith("Z") and body["owner"] is None
        assert body["protected"] is False and body["min_disk"] == 0 and body["tags"] == []


def test_show_invisible_or_unknown_is_404(member_client, images):
    for image_id in (images["theirs"].id, "00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        resp = member_client.get(f"/image/v2/images/{image_id}")
        assert resp.status_code == 404
        assert resp.json()["itemNotFound"]["code"] == 404
    assert member_client.get(f"/image/v2/images/{images['community'].id}").status_code == 200


def test_deleted_image_is_gone(member_client, images):
    registry.delete_image(images["public"])
    assert member_client.get(f"/image/v2/images/{images['public'].id}").status_code == 404
    assert names(member_client.get("/image/v2/images").json()) == ["mine"]


# --- compute proxy ----------------------------------------------------------------------------

def test_compute_images_list_and_detail(member_client, images):
    body = member_client.get("/compute/v2.1/images").json()
    assert sorted(i["name"] for i in body["images"]) == ["comm", "mine", "pub"]
    entry = next(i for i in body["images"] if i["name"] == "pub")
    assert set(entry) == {"id", "name", "links"}
    assert entry["links"][0] == {"rel": "self", "href": f"http://testserver/compute/v2.1/images/{images['public'].id}"}
    detail = member_client.get("/compute/v2.1/images/detail/").json()["images"]
    pub = next(i for i in detail if i["name"] == "pub")
    assert pub["status"] == "ACTIVE" and pub["progress"] == 100
    assert pub["metadata"] == {"architecture": "x86_64"}
    assert pub["OS-EXT-IMG-SIZE:size"] == images["public"].size
    assert pub["minDisk"] == 0 and pub["minRam"] == 0 and pub["created"].endswith("Z")


def test_compute_image_show_and_404(member_client, images):
    resp = member_client.get(f"/compute/v2.1/images/{images['mine'].id}")
    assert resp.status_code == 200
    assert resp["OpenStack-API-Version"] == "compute 2.1"
    assert resp.json()["image"]["name"] == "mine"
    resp = member_client.get(f"/compute/v2.1/images/{images['theirs'].id}")
    assert resp.status_code == 404
    assert resp.json() == {"itemNotFound": {"code": 404, "message": "Image not found."}}


def test_compute_images_paging(member_client, images):
    body = member_client.get("/compute/v2.1/images?limit=2").json()
    assert len(body["images"]) == 2
    next_href = body["images_links"][0]["href"]
    rest = member_client.get(next_href.replace("http://testserver", "")).json()
    assert len(rest["images"]) == 1 and "images_links" not in rest


def test_image_root_without_slash(anon_client):
    resp = anon_client.get("/image")
    assert resp.status_code == 300 and resp.json()["versions"][0]["id"] == "v2.18"


def test_compute_image_delete(member_client, images):
    resp = member_client.delete(f"/compute/v2.1/images/{images['mine'].id}")
    assert resp.status_code == 204
    assert member_client.get(f"/image/v2/images/{images['mine'].id}").status_code == 404
    resp = member_client.delete(f"/compute/v2.1/images/{images['public'].id}")
    assert resp.status_code == 403 and resp.json()["forbidden"]["code"] == 403
    assert member_client.delete(f"/compute/v2.1/images/{images['theirs'].id}").status_code == 404
