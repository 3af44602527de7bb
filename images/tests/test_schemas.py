"""The published image schemas agree with what the API accepts and returns: every enum value a
schema offers is accepted by the matching request, a value outside it is refused (400), length
limits match, and real response bodies validate against their schema."""
import jsonschema
import pytest

from cloudproj.testing.clients import TokenClient
from images.models import AMAZON_FORMATS
from images.services.metadefs import PROPERTY_KEYS
from images.services.registry import CORE_FIELDS

pytestmark = pytest.mark.django_db
NS = "/image/v2/metadefs/namespaces"


def schema(client, name):
    resp = client.get(f"/image/v2/schemas/{name}")
    assert resp.status_code == 200, resp.content
    return resp.json()


def offered(prop):
    """The non-null values of an enum."""
    return [v for v in prop["enum"] if v is not None]


def post_image(client, **body):
    return client.post("/image/v2/images", {"name": "img", **body}, format="json")


def validate(body, document):
    # the link templates and the non-standard keys are not JSON Schema; the rest is checked
    jsonschema.Draft4Validator(document).validate(body)


def test_disk_formats_in_the_schema_are_exactly_those_accepted(member_client):
    props = schema(member_client, "image")["properties"]
    assert props["disk_format"]["enum"][0] is None
    for fmt in offered(props["disk_format"]):
        container = fmt if fmt in AMAZON_FORMATS else "bare"
        resp = post_image(member_client, disk_format=fmt, container_format=container)
        assert resp.status_code == 201, (fmt, resp.content)
        assert resp.json()["disk_format"] == fmt
    for fmt in ("vhd", "vhdx", "ploop", "QCOW2", ""):
        assert fmt not in props["disk_format"]["enum"]
        resp = post_image(member_client, disk_format=fmt, container_format="bare")
        assert resp.status_code == 400, (fmt, resp.content)
        assert resp.json()["badRequest"]["code"] == 400


def test_container_formats_in_the_schema_are_exactly_those_accepted(member_client):
    props = schema(member_client, "image")["properties"]
    assert props["container_format"]["enum"][0] is None
    for fmt in offered(props["container_format"]):
        disk = fmt if fmt in AMAZON_FORMATS else "raw"
        resp = post_image(member_client, disk_format=disk, container_format=fmt)
        assert resp.status_code == 201, (fmt, resp.content)
        assert resp.json()["container_format"] == fmt
    for fmt in ("docker", "ova", "compressed", "BARE"):
        assert fmt not in props["container_format"]["enum"]
        resp = post_image(member_client, disk_format="raw", container_format=fmt)
        assert resp.status_code == 400, (fmt, resp.content)


def test_visibilities_in_the_schema_are_exactly_those_accepted(admin_client):
    props = schema(admin_client, "image")["properties"]
    assert None not in props["visibility"]["enum"]
    for visibility in props["visibility"]["enum"]:
        resp = post_image(admin_client, visibility=visibility)
        assert resp.status_code == 201, (visibility, resp.content)
        assert resp.json()["visibility"] == visibility
    for visibility in ("internal", "Public", ""):
        assert visibility not in props["visibility"]["enum"]
        assert post_image(admin_client, visibility=visibility).status_code == 400, visibility


def test_image_bodies_validate_and_every_core_field_is_described(member_client):
    document = schema(member_client, "image")
    props = document["properties"]
    # every core field the registry knows (but the soft-delete columns, never shown) is in the schema
    assert CORE_FIELDS - {"deleted", "deleted_at"} <= set(props)
    resp = post_image(member_client, disk_format="qcow2", container_format="bare", tags=["a"],
                      architecture="x86_64")
    body = resp.json()
    assert set(body) <= set(props) and set(body) >= {"id", "status", "self", "file", "schema"}
    validate(body, document)
    assert body["status"] in props["status"]["enum"]
    listing = member_client.get("/image/v2/images").json()
    validate(listing, schema(member_client, "images"))
    # a name one character over the schema's maxLength is refused, one at it accepted
    limit = props["name"]["maxLength"]
    assert post_image(member_client, name="n" * limit).status_code == 201
    assert post_image(member_client, name="n" * (limit + 1)).status_code == 400
    # too long a tag likewise
    tag_limit = props["tags"]["items"]["maxLength"]
    assert post_image(member_client, tags=["t" * tag_limit]).status_code == 201
    assert post_image(member_client, tags=["t" * (tag_limit + 1)]).status_code == 400


def test_member_statuses_in_the_schema_are_exactly_those_accepted(member_client, make_account):
    _, other, other_token = make_account("other", "member")
    other_client = TokenClient(other_token)
    document = schema(member_client, "member")
    image = post_image(member_client, disk_format="raw", container_format="bare").json()
    url = f"/image/v2/images/{image['id']}/members"
    created = member_client.post(url, {"member": other.id}, format="json")
    assert created.status_code == 200
    validate(created.json(), document)
    for status in document["properties"]["status"]["enum"]:
        resp = other_client.put(f"{url}/{other.id}", {"status": status}, format="json")
        assert resp.status_code == 200, (status, resp.content)
        assert resp.json()["status"] == status
        validate(resp.json(), document)
    for status in ("all", "Accepted", "", "approved"):
        assert status not in document["properties"]["status"]["enum"]
        resp = other_client.put(f"{url}/{other.id}", {"status": status}, format="json")
        assert resp.status_code == 400, (status, resp.content)
    validate(member_client.get(url).json(), schema(member_client, "members"))


def test_namespace_visibilities_and_lengths_match_the_api(admin_client):
    document = schema(admin_client, "metadefs/namespace")
    props = document["properties"]
    for i, visibility in enumerate(props["visibility"]["enum"]):
        resp = admin_client.post(NS, {"namespace": f"ns{i}", "visibility": visibility}, format="json")
        assert resp.status_code == 201, (visibility, resp.content)
        validate(resp.json(), document)
    for visibility in ("shared", "community", "Public"):
        assert visibility not in props["visibility"]["enum"]
        resp = admin_client.post(NS, {"namespace": "bad", "visibility": visibility}, format="json")
        assert resp.status_code == 400, visibility
    for field in ("namespace", "display_name", "description"):
        limit = props[field]["maxLength"]
        body = {"namespace": "lim", field: "x" * limit}
        resp = admin_client.post(NS, body, format="json")
        assert resp.status_code == 201, (field, resp.content)
        assert admin_client.delete(f"{NS}/{resp.json()['namespace']}").status_code == 204
        resp = admin_client.post(NS, {**body, field: "x" * (limit + 1)}, format="json")
        assert resp.status_code == 400, field
    validate(admin_client.get(NS).json(), schema(admin_client, "metadefs/namespaces"))


def test_property_types_and_keys_match_the_api(admin_client):
    document = schema(admin_client, "metadefs/property")
    props = document["properties"]
    # the keys a definition may carry are the ones the service accepts (plus its name)
    assert set(props) == set(PROPERTY_KEYS) | {"name"}
    assert document["additionalProperties"] is False
    assert admin_client.post(NS, {"namespace": "types"}, format="json").status_code == 201
    for kind in offered(props["type"]):
        resp = admin_client.post(f"{NS}/types/properties", {"name": f"p_{kind}", "title": kind, "type": kind},
                                 format="json")
        assert resp.status_code == 201, (kind, resp.content)
        validate(resp.json(), document)
    for kind in ("float", "String", "null"):
        assert kind not in props["type"]["enum"]
        resp = admin_client.post(f"{NS}/types/properties", {"name": "bad", "title": "t", "type": kind},
                                 format="json")
        assert resp.status_code == 400, kind
    listed = admin_client.get(f"{NS}/types/properties").json()
    assert len(listed["properties"]) == len(offered(props["type"]))
    validate(listed, schema(admin_client, "metadefs/properties"))


def test_object_tag_and_resource_type_limits_match_the_api(admin_client):
    assert admin_client.post(NS, {"namespace": "lims"}, format="json").status_code == 201
    obj = schema(admin_client, "metadefs/object")
    limit = obj["properties"]["name"]["maxLength"]
    resp = admin_client.post(f"{NS}/lims/objects", {"name": "o" * limit}, format="json")
    assert resp.status_code == 201, resp.content
    validate(resp.json(), obj)
    assert admin_client.post(f"{NS}/lims/objects", {"name": "o" * (limit + 1)}, format="json").status_code == 400
    validate(admin_client.get(f"{NS}/lims/objects").json(), schema(admin_client, "metadefs/objects"))

    tag = schema(admin_client, "metadefs/tag")
    limit = tag["properties"]["name"]["maxLength"]
    resp = admin_client.post(f"{NS}/lims/tags/{'t' * limit}")
    assert resp.status_code == 201, resp.content
    validate(resp.json(), tag)
    assert admin_client.post(f"{NS}/lims/tags/{'t' * (limit + 1)}").status_code == 400
    validate(admin_client.get(f"{NS}/lims/tags").json(), schema(admin_client, "metadefs/tags"))

    assoc = schema(admin_client, "metadefs/resource_type")
    for field in ("name", "prefix", "properties_target"):
        limit = assoc["properties"][field]["maxLength"]
        body = {"name": "OS::Glance::Image", field: "r" * limit} if field != "name" else {"name": "r" * limit}
        resp = admin_client.post(f"{NS}/lims/resource_types", body, format="json")
        assert resp.status_code == 201, (field, resp.content)
        validate(resp.json(), assoc)
        name = resp.json()["name"]
        assert admin_client.delete(f"{NS}/lims/resource_types/{name}").status_code == 204
        resp = admin_client.post(f"{NS}/lims/resource_types", {**body, field: "r" * (limit + 1)}, format="json")
        assert resp.status_code == 400, field
