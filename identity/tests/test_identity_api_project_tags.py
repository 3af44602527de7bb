"""Project tags: /v3/projects/{p}/tags[/{tag}], `tags` in project bodies, the tag filters."""
import pytest

from identity.models import Project

pytestmark = pytest.mark.django_db


def assert_error(response, code, words):
    assert response.status_code == code, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"], error


def test_tags_single_and_bulk(admin_client):
    pid = admin_client.post("/v3/projects", {"project": {"name": "tagged", "tags": ["a", "b", "a"]}},
                            format="json").json()["project"]["id"]
    assert admin_client.get(f"/v3/projects/{pid}").json()["project"]["tags"] == ["a", "b"]
    assert admin_client.get(f"/v3/projects/{pid}/tags").json()["tags"] == ["a", "b"]
    put = admin_client.put(f"/v3/projects/{pid}/tags/c")
    assert put.status_code == 201 and put["Location"].endswith(f"/projects/{pid}/tags/c")
    assert admin_client.head(f"/v3/projects/{pid}/tags/c").status_code == 204
    assert admin_client.get(f"/v3/projects/{pid}/tags/c").status_code == 204
    assert_error(admin_client.get(f"/v3/projects/{pid}/tags/zz"), 404, "zz")
    assert admin_client.delete(f"/v3/projects/{pid}/tags/a").status_code == 204
    assert_error(admin_client.delete(f"/v3/projects/{pid}/tags/a"), 404, "a")
    assert Project.objects.get(pk=pid).tags == ["b", "c"]

    replaced = admin_client.put(f"/v3/projects/{pid}/tags", {"tags": ["x", "y"]}, format="json")
    assert replaced.status_code == 200 and replaced.json()["tags"] == ["x", "y"]
    patched = admin_client.patch(f"/v3/projects/{pid}", {"project": {"tags": ["z"]}}, format="json")
    assert patched.json()["project"]["tags"] == ["z"]
    assert admin_client.delete(f"/v3/projects/{pid}/tags").status_code == 204
    assert admin_client.get(f"/v3/projects/{pid}/tags").json()["tags"] == []


def test_tag_filters(admin_client):
    for name, tags in (("p1", ["red", "big"]), ("p2", ["red"]), ("p3", ["blue"])):
        assert admin_client.post("/v3/projects", {"project": {"name": name, "tags": tags}},
                                 format="json").status_code == 201

    def names(query):
        return sorted(p["name"] for p in admin_client.get(f"/v3/projects?{query}").json()["projects"]
                      if p["name"] in ("p1", "p2", "p3"))

    assert names("tags=red,big") == ["p1"]
    assert names("tags-any=big,blue") == ["p1", "p3"]
    assert names("not-tags=red,big") == ["p2", "p3"]
    assert names("not-tags-any=red") == ["p3"]


def test_tag_errors_and_isolation(admin_client, member_client, member_account, other_client):
    pid = member_account[1].id
    assert_error(admin_client.put(f"/v3/projects/{pid}/tags", {"tags": "a"}, format="json"), 400, "tags")
    assert_error(admin_client.put(f"/v3/projects/{pid}/tags", {"tags": ["a,b"]}, format="json"), 400, "tag")
    assert_error(admin_client.put(f"/v3/projects/{pid}/tags", {"tags": ["x" * 256]}, format="json"), 400, "tag")
    too_many = [f"t{i}" for i in range(81)]
    assert_error(admin_client.put(f"/v3/projects/{pid}/tags", {"tags": too_many}, format="json"), 400, "80")
    assert_error(admin_client.put(f"/v3/projects/{pid}/tags", {}, format="json"), 400, "tags")
    assert_error(admin_client.post("/v3/projects", {"project": {"name": "bad", "tags": [1]}}, format="json"),
                 400, "tag")
    assert not Project.objects.filter(name="bad").exists()
    assert_error(admin_client.put("/v3/projects/nope/tags/a"), 404, "nope")
    # A member reads its project's tags but may not change them; another project's are hidden.
    assert admin_client.put(f"/v3/projects/{pid}/tags/mine").status_code == 201
    assert member_client.get(f"/v3/projects/{pid}/tags").json()["tags"] == ["mine"]
    assert member_client.put(f"/v3/projects/{pid}/tags/x").status_code == 403
    assert other_client.get(f"/v3/projects/{pid}/tags").status_code == 404
    assert Project.objects.get(pk=pid).tags == ["mine"]
