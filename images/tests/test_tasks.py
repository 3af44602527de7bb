"""Glance's tasks API as this cloud has it (images/api/tasks.py): no task ever exists, an
image's task list is empty (what tempest's compute image tests wait on), POST /v2/tasks is an
admin's request answered with Glance's 400s; /v2/images/ (an empty id) is a 404."""
import pytest

from cloudproj.testing.clients import TokenClient

pytestmark = pytest.mark.django_db


def create(client, **body):
    body = {"name": "img", "disk_format": "raw", "container_format": "bare", **body}
    resp = client.post("/image/v2/images", body, format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()


def test_an_image_has_no_tasks(member_client, make_account):
    image = create(member_client, visibility="private")
    resp = member_client.get(f"/image/v2/images/{image['id']}/tasks")
    assert resp.status_code == 200 and resp.json() == {"tasks": []}
    stranger = TokenClient(make_account("other", "member")[2])
    assert stranger.get(f"/image/v2/images/{image['id']}/tasks").status_code == 404
    assert member_client.get("/image/v2/images/f6fb3b62-35c2-4fd0-8e3b-5c0b4cf2f6a1/tasks").status_code == 404


def test_tasks_are_admin_only_and_import_is_refused(admin_client, member_client):
    assert member_client.get("/image/v2/tasks").status_code == 403
    assert member_client.post("/image/v2/tasks", {"type": "import", "input": {}}, format="json").status_code == 403
    listed = admin_client.get("/image/v2/tasks")
    assert listed.status_code == 200 and listed.json()["tasks"] == []
    assert admin_client.get("/image/v2/tasks/some-id").status_code == 404
    task = {"type": "import", "input": {"import_from": "http://nowhere.invalid/x.qcow2",
                                        "import_from_format": "qcow2",
                                        "image_properties": {"disk_format": "qcow2", "container_format": "bare"}}}
    for body, says in ((task, "not supported"), ({"input": {}}, "type is required"),
                       ({"type": "export", "input": {}}, "Invalid type"),
                       ({"type": "import", "input": "x"}, "must be an object"),
                       ({"type": "import", "input": {"import_from": "http://x"}}, "import_from_format"), ([], "")):
        resp = admin_client.post("/image/v2/tasks", body, format="json")
        assert resp.status_code == 400, (body, resp.content)
        assert says in resp.json()["badRequest"]["message"]
    assert admin_client.get("/image/v2/images").json()["images"] == []  # nothing half-made


def test_an_empty_image_id_is_404(member_client):
    image = create(member_client)
    for method in ("get", "delete", "patch"):
        resp = getattr(member_client, method)("/image/v2/images/")
        assert resp.status_code == 404, method
        assert resp.json()["itemNotFound"]["code"] == 404
    assert [i["id"] for i in member_client.get("/image/v2/images").json()["images"]] == [image["id"]]
