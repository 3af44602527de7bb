"""Metadata definitions catalogue (/image/v2/metadefs/...): status codes and bodies."""
import pytest

from images.models import MetadefNamespace

pytestmark = pytest.mark.django_db
NS = "/image/v2/metadefs/namespaces"
PROP = {"title": "CPU cores", "type": "integer", "minimum": 1, "description": "cores"}


def make_ns(client, **body):
    body = {"namespace": "OS::Test::Ns", **body}
    resp = client.post(NS, body, format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()


def test_namespace_crud(admin_client, admin_account):
    body = make_ns(admin_client, display_name="Test", description="d", visibility="public", protected=True,
                   resource_type_associations=[{"name": "OS::Glance::Image", "prefix": "hw_"}],
                   properties={"cores": PROP}, tags=[{"name": "a"}],
                   objects=[{"name": "cpu", "properties": {"cores": PROP}, "required": ["cores"]}])
    assert body["namespace"] == "OS::Test::Ns" and body["display_name"] == "Test"
    assert body["visibility"] == "public" and body["protected"] is True
    assert body["owner"] == admin_account[1].id
    assert body["schema"] == "/v2/schemas/metadefs/namespace" and body["self"] == f"/v2/metadefs/namespaces/{body['namespace']}"
    shown = admin_client.get(f"{NS}/OS::Test::Ns").json()
    assert shown["properties"] == {"cores": PROP}
    assert shown["tags"] == [{"name": "a"}]
    assert shown["objects"][0]["name"] == "cpu" and shown["objects"][0]["required"] == ["cores"]
    (assoc,) = shown["resource_type_associations"]
    assert assoc["name"] == "OS::Glance::Image" and assoc["prefix"] == "hw_" and "properties_target" not in assoc
    # duplicate name
    resp = admin_client.post(NS, {"namespace": "OS::Test::Ns"}, format="json")
    assert resp.status_code == 409 and resp.json()["conflictingRequest"]["code"] == 409
    # protected: no delete (403) until unprotected by an update
    resp = admin_client.delete(f"{NS}/OS::Test::Ns")
    assert resp.status_code == 403 and resp.json()["forbidden"]["code"] == 403
    resp = admin_client.put(f"{NS}/OS::Test::Ns", {"namespace": "OS::Test::Ns", "protected": False,
                                                   "description": "new"}, format="json")
    assert resp.status_code == 200 and resp.json()["protected"] is False and resp.json()["description"] == "new"
    assert resp.json()["visibility"] == "public" and resp.json()["display_name"] == "Test"  # kept
    make_ns(admin_client, namespace="other")
    resp = admin_client.put(f"{NS}/OS::Test::Ns", {"namespace": "other"}, format="json")
    assert resp.status_code == 409
    resp = admin_client.put(f"{NS}/OS::Test::Ns", {"namespace": "renamed"}, format="json")
    assert resp.status_code == 200 and resp.json()["self"] == "/v2/metadefs/namespaces/renamed"
    assert admin_client.get(f"{NS}/renamed").json()["properties"] == {"cores": PROP}
    assert admin_client.delete(f"{NS}/renamed").status_code == 204
    assert admin_client.delete(f"{NS}/other").status_code == 204
    assert admin_client.get(f"{NS}/renamed").status_code == 404
    assert not MetadefNamespace.objects.exists()


def test_namespace_bad_input_is_400_and_nothing_written(admin_client):
    for body in ({}, {"namespace": ""}, {"namespace": "a/b"}, {"namespace": "x" * 81},
                 {"namespace": "n", "visibility": "shared"}, {"namespace": "n", "protected": "yes"},
                 {"namespace": "n", "bogus": 1}, {"namespace": "n", "properties": {"p": {"type": "integer"}}},
                 {"namespace": "n", "properties": {"p": {"title": "t", "type": "nope"}}}):
        resp = admin_client.post(NS, body, format="json")
        assert resp.status_code == 400, (body, resp.content)
        assert resp.json()["badRequest"]["code"] == 400
    assert not MetadefNamespace.objects.exists()


def test_writes_are_admin_only_and_private_namespaces_hidden(admin_client, member_client, member_account):
    resp = member_client.post(NS, {"namespace": "mine"}, format="json")
    assert resp.status_code == 403 and resp.json()["forbidden"]["code"] == 403
    make_ns(admin_client, namespace="private-ns")
    make_ns(admin_client, namespace="public-ns", visibility="public")
    make_ns(admin_client, namespace="members-ns", owner=member_account[1].id)
    listed = [n["namespace"] for n in member_client.get(NS).json()["namespaces"]]
    assert sorted(listed) == ["members-ns", "public-ns"]
    assert member_client.get(f"{NS}/private-ns").status_code == 404
    assert member_client.get(f"{NS}/private-ns/objects").status_code == 404
    assert member_client.get(f"{NS}/public-ns").status_code == 200
    assert member_client.delete(f"{NS}/public-ns").status_code == 403
    assert member_client.post(f"{NS}/public-ns/tags/x").status_code == 403
    admin_listed = admin_client.get(f"{NS}?visibility=private").json()
    assert sorted(n["namespace"] for n in admin_listed["namespaces"]) == ["members-ns", "private-ns"]
    assert admin_listed["schema"] == "/v2/schemas/metadefs/namespaces" and admin_listed["first"] == "/v2/metadefs/namespaces"


def test_namespace_list_paging_and_resource_type_filter(admin_client):
    for i in range(3):
        make_ns(admin_client, namespace=f"ns{i}",
                resource_type_associations=[{"name": "OS::Nova::Flavor"}] if i == 1 else [])
    page = admin_client.get(f"{NS}?limit=2&sort_key=namespace&sort_dir=asc").json()
    assert [n["namespace"] for n in page["namespaces"]] == ["ns0", "ns1"]
    assert page["next"] == "/v2/metadefs/namespaces?marker=ns1&limit=2"
    rest = admin_client.get(f"{NS}?limit=2&sort_key=namespace&sort_dir=asc&marker=ns1").json()
    assert [n["namespace"] for n in rest["namespaces"]] == ["ns2"] and "next" not in rest
    only = admin_client.get(f"{NS}?resource_types=OS::Nova::Flavor").json()["namespaces"]
    assert [n["namespace"] for n in only] == ["ns1"]
    assert only[0]["resource_type_associations"][0]["name"] == "OS::Nova::Flavor"
    assert admin_client.get(f"{NS}?sort_key=bogus").status_code == 400
    assert admin_client.get(f"{NS}?marker=nope").status_code == 400
    assert admin_client.get(f"{NS}?limit=-1").status_code == 400


def test_objects(admin_client):
    make_ns(admin_client)
    url = f"{NS}/OS::Test::Ns/objects"
    resp = admin_client.post(url, {"name": "obj", "description": "o", "required": [],
                                   "properties": {"p": PROP}}, format="json")
    assert resp.status_code == 201
    body = resp.json()
    assert body["name"] == "obj" and body["properties"] == {"p": PROP} and body["description"] == "o"
    assert body["schema"] == "/v2/schemas/metadefs/object"
    assert body["self"] == "/v2/metadefs/namespaces/OS::Test::Ns/objects/obj"
    assert admin_client.post(url, {"name": "obj"}, format="json").status_code == 409
    assert admin_client.post(url, {"description": "no name"}, format="json").status_code == 400
    listed = admin_client.get(url).json()
    assert [o["name"] for o in listed["objects"]] == ["obj"] and listed["schema"] == "v2/schemas/metadefs/objects"
    resp = admin_client.put(f"{url}/obj", {"name": "obj2", "description": "changed"}, format="json")
    assert resp.status_code == 200 and resp.json()["name"] == "obj2" and resp.json()["properties"] == {}
    assert admin_client.get(f"{url}/obj").status_code == 404
    assert admin_client.get(f"{url}/obj2").json()["description"] == "changed"
    assert admin_client.delete(f"{url}/obj2").status_code == 204
    assert admin_client.delete(f"{url}/obj2").status_code == 404
    admin_client.post(url, {"name": "a"}, format="json")
    assert admin_client.delete(url).status_code == 204
    assert admin_client.get(url).json()["objects"] == []


def test_properties(admin_client):
    make_ns(admin_client)
    url = f"{NS}/OS::Test::Ns/properties"
    resp = admin_client.post(url, {"name": "cores", **PROP}, format="json")
    assert resp.status_code == 201 and resp.json() == {"name": "cores", **PROP}
    assert admin_client.post(url, {"name": "cores", **PROP}, format="json").status_code == 409
    assert admin_client.post(url, {"name": "x", "type": "string"}, format="json").status_code == 400
    assert admin_client.post(url, {"name": "x", "title": "t", "type": "string", "pattern": "("},
                             format="json").status_code == 400
    assert admin_client.get(url).json() == {"properties": {"cores": PROP}}
    assert admin_client.get(f"{url}/cores").json() == {"name": "cores", **PROP}
    resp = admin_client.put(f"{url}/cores", {"name": "cores", "title": "Cores", "type": "string",
                                             "enum": ["1", "2"]}, format="json")
    assert resp.status_code == 200 and resp.json() == {"name": "cores", "title": "Cores", "type": "string",
                                                       "enum": ["1", "2"]}
    assert admin_client.delete(f"{url}/cores").status_code == 204
    assert admin_client.get(f"{url}/cores").status_code == 404


def test_tags(admin_client):
    make_ns(admin_client)
    url = f"{NS}/OS::Test::Ns/tags"
    resp = admin_client.post(f"{url}/one")
    assert resp.status_code == 201 and resp.json()["name"] == "one" and resp.json()["created_at"]
    assert admin_client.post(f"{url}/one").status_code == 409
    resp = admin_client.post(url, {"tags": [{"name": "a"}, {"name": "b"}]}, format="json")
    assert resp.status_code == 201 and resp.json() == {"tags": [{"name": "a"}, {"name": "b"}]}
    assert [t["name"] for t in admin_client.get(url).json()["tags"]] == ["a", "b"]  # replaced
    resp = admin_client.post(url, {"tags": [{"name": "c"}]}, format="json", HTTP_X_OPENSTACK_APPEND="True")
    assert resp.status_code == 201
    assert [t["name"] for t in admin_client.get(url).json()["tags"]] == ["a", "b", "c"]
    assert admin_client.post(url, {"tags": [{"name": "d"}, {"name": "d"}]}, format="json").status_code == 409
    assert admin_client.post(url, {"tags": [{"name": "a"}]}, format="json",
                             HTTP_X_OPENSTACK_APPEND="true").status_code == 409
    assert admin_client.post(url, {"tags": "a"}, format="json").status_code == 400
    resp = admin_client.put(f"{url}/a", {"name": "z"}, format="json")
    assert resp.status_code == 200 and resp.json()["name"] == "z"
    assert admin_client.get(f"{url}/a").status_code == 404
    assert admin_client.delete(f"{url}/z").status_code == 204
    assert admin_client.delete(url).status_code == 204
    assert admin_client.get(url).json() == {"tags": []}


def test_resource_types_and_associations(admin_client, member_client):
    names = [r["name"] for r in member_client.get("/image/v2/metadefs/resource_types").json()["resource_types"]]
    assert {"OS::Glance::Image", "OS::Nova::Flavor", "OS::Cinder::Volume"} <= set(names)
    make_ns(admin_client)
    url = f"{NS}/OS::Test::Ns/resource_types"
    resp = admin_client.post(url, {"name": "OS::Nova::Flavor", "prefix": "hw:"}, format="json")
    assert resp.status_code == 201
    body = resp.json()
    assert body["name"] == "OS::Nova::Flavor" and body["prefix"] == "hw:" and body["created_at"]
    assert admin_client.post(url, {"name": "OS::Nova::Flavor"}, format="json").status_code == 409
    # an unknown resource type is created, as Glance does
    assert admin_client.post(url, {"name": "OS::Custom::Thing"}, format="json").status_code == 201
    assert "OS::Custom::Thing" in [r["name"] for r in admin_client.get("/image/v2/metadefs/resource_types")
                                   .json()["resource_types"]]
    listed = admin_client.get(url).json()["resource_type_associations"]
    assert [a["name"] for a in listed] == ["OS::Nova::Flavor", "OS::Custom::Thing"]
    assert admin_client.delete(f"{url}/OS::Nova::Flavor").status_code == 204
    assert admin_client.delete(f"{url}/OS::Nova::Flavor").status_code == 404


def test_protected_namespace_keeps_its_contents(admin_client):
    make_ns(admin_client, protected=True, tags=[{"name": "t"}], resource_type_associations=[{"name": "OS::Glance::Image"}])
    assert admin_client.delete(f"{NS}/OS::Test::Ns/tags").status_code == 403
    assert admin_client.delete(f"{NS}/OS::Test::Ns/resource_types/OS::Glance::Image").status_code == 403
    assert admin_client.get(f"{NS}/OS::Test::Ns/tags").json()["tags"][0]["name"] == "t"


def test_malformed_bodies_are_400_with_the_envelope(admin_client):
    for raw in (b"{not json", b"[1, 2]", b'"text"'):
        resp = admin_client.generic("POST", NS, raw, content_type="application/json")
        assert resp.status_code == 400, (raw, resp.content)
        assert resp.json()["badRequest"]["code"] == 400
    make_ns(admin_client)
    for url, raw in ((f"{NS}/OS::Test::Ns/objects", b"[]"), (f"{NS}/OS::Test::Ns/properties", b"{bad"),
                     (f"{NS}/OS::Test::Ns/tags", b'{"tags": [1]}'),
                     (f"{NS}/OS::Test::Ns/resource_types", b'{"name": ""}')):
        resp = admin_client.generic("POST", url, raw, content_type="application/json")
        assert resp.status_code == 400, (url, resp.content)
        assert resp.json()["badRequest"]["code"] == 400
    resp = admin_client.post(f"{NS}/OS::Test::Ns/tags/{'t' * 256}")
    assert resp.status_code == 400
    assert admin_client.get(f"{NS}/OS::Test::Ns/tags").json() == {"tags": []}


def test_load_metadefs_command(tmp_path, admin_client):
    import json

    from django.core.management import CommandError, call_command

    (tmp_path / "a.json").write_text(json.dumps({
        "namespace": "OS::Compute::Test", "display_name": "Test", "visibility": "public", "protected": True,
        "resource_type_associations": [{"name": "OS::Nova::Flavor", "prefix": "hw:"}],
        "properties": {"cpu_policy": {"title": "CPU policy", "type": "string", "enum": ["shared", "dedicated"]}},
        "objects": [{"name": "o", "properties": {"x": {"title": "X", "type": "integer"}}}],
        "tags": [{"name": "t1"}],
    }))
    call_command("load_metadefs", str(tmp_path))
    shown = admin_client.get(f"{NS}/OS::Compute::Test").json()
    assert shown["properties"]["cpu_policy"]["enum"] == ["shared", "dedicated"]
    assert shown["objects"][0]["name"] == "o" and shown["tags"] == [{"name": "t1"}]
    assert shown["resource_type_associations"][0]["prefix"] == "hw:"
    call_command("load_metadefs", str(tmp_path))  # present: skipped
    assert MetadefNamespace.objects.count() == 1
    (tmp_path / "b.json").write_text(json.dumps({"namespace": "bad", "properties": {"p": {"type": "nope"}}}))
    with pytest.raises(CommandError):
        call_command("load_metadefs", str(tmp_path / "b.json"))
    assert not MetadefNamespace.objects.filter(namespace="bad").exists()
