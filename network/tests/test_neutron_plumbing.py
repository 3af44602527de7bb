"""The Networking API's plumbing: /network version document, /v2.0 resources, the catalog
entry, Neutron's error envelope, the list helpers, timestamps, and ports as allocated fixed IPs."""
import uuid
from datetime import UTC, datetime

import pytest
from django.apps import apps
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from cloudproj.api import neutron
from cloudproj.exceptions import Conflict
from cloudproj.testing.clients import TokenClient
from cloudproj.testing.factories import make_instance
from network.models import FixedIP
from network.services import NetworkInUse, fixed_ips, networks, ports

pytestmark = pytest.mark.django_db


def error(response, status, error_type=None):
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"NeutronError"}
    assert set(body["NeutronError"]) == {"type", "message", "detail"}
    if error_type:
        assert body["NeutronError"]["type"] == error_type
    return body["NeutronError"]


def test_version_document_at_the_catalog_url_with_and_without_slash(anon_client):
    for url in ("/network", "/network/"):
        response = anon_client.get(url)
        assert response.status_code == 200
        assert response.json() == {"versions": [{
            "id": "v2.0", "status": "CURRENT",
            "links": [{"href": "http://testserver/network/v2.0/", "rel": "self"}]}]}


def test_resources_need_a_token_and_answer_in_the_envelope(anon_client, member_client):
    error(anon_client.get("/network/v2.0/"), 401, "HTTPUnauthorized")
    assert anon_client.get("/network/v2.0/").headers["WWW-Authenticate"].startswith("Keystone")
    error(TokenClient("not-a-token").get("/network/v2.0/"), 401, "HTTPUnauthorized")
    for url in ("/network/v2.0", "/network/v2.0/"):
        body = member_client.get(url).json()
        assert isinstance(body["resources"], list)
    error(member_client.post("/network/v2.0/", {}, format="json"), 405, "HTTPMethodNotAllowed")


def test_unknown_urls_under_network_are_404_in_the_envelope(member_client, anon_client):
    for url in ("/network/v2.0/nothing", "/network/v3/", "/network/v2.0/networks/x/y/z/w"):
        assert error(member_client.get(url), 404, "HTTPNotFound")["message"]
    error(member_client.delete("/network/v2.0/nothing"), 404, "HTTPNotFound")
    error(anon_client.get("/network/zzz"), 401, "HTTPUnauthorized")


def test_catalog_has_a_network_entry_without_version(anon_client, admin_account):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": "secret-pass"}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    response = anon_client.post("/identity/v3/auth/tokens", body, format="json")
    catalog = {e["type"]: e for e in response.json()["token"]["catalog"]}
    network = catalog["network"]
    assert network["name"] == "neutron"
    assert {e["url"] for e in network["endpoints"]} == {"http://testserver/network"}
    v2 = anon_client.post("/v2.0/tokens", {"auth": {"passwordCredentials": {
        "username": "admin", "password": "secret-pass"}, "tenantName": "admin"}}, format="json")
    entry = next(s for s in v2.json()["access"]["serviceCatalog"] if s["type"] == "network")
    assert entry["endpoints"][0]["publicURL"] == "http://testserver/network"


# --- the envelope of errors views raise ---------------------------------------------------------

class Boom(neutron.NeutronAPIView):
    raise_it = None

    def get(self, request):
        raise self.raise_it

    def post(self, request):
        return Response(self.body("thing", allowed={"a"}, required={"a"}))




@pytest.mark.parametrize("exc, status, error_type", [
    (NetworkInUse("Unable to complete operation on network n1. There are one or more ports still in use."),
     409, "NetworkInUse"),
    (Conflict("generic"), 409, "HTTPConflict"),
    (neutron.not_found("Network x could not be found.", "NetworkNotFound"), 404, "NetworkNotFound"),
    (neutron.forbidden(), 403, "PolicyNotAuthorized"),
])
def test_errors_views_raise_become_the_envelope(exc, status, error_type, member_account):
    request = APIRequestFactory().get("/boom", HTTP_X_AUTH_TOKEN=member_account[2])
    response = Boom.as_view(raise_it=exc)(request)
    response.render()
    assert response.status_code == status
    assert response.data["NeutronError"]["type"] == error_type
    assert response.data["NeutronError"]["message"] == getattr(exc, "message", None)


def test_bad_json_and_bad_bodies_are_400_in_the_envelope(member_account):
    factory = APIRequestFactory()
    token = {"HTTP_X_AUTH_TOKEN": member_account[2]}
    for payload, error_type in (("{not json", "MalformedRequestBody"), ('{"thing": 1}', "HTTPBadRequest"),
                                ('{"thing": {"b": 1}}', "HTTPBadRequest"), ('{"thing": {}}', "HTTPBadRequest")):
        response = Boom.as_view()(factory.post("/boom", payload, content_type="application/json", **token))
        response.render()
        assert response.status_code == 400, payload
        assert response.data["NeutronError"]["type"] == error_type
    response = Boom.as_view()(factory.post("/boom", '{"thing": {"a": 1}}', content_type="application/json",
                                           **token))
    assert response.status_code == 200 and response.data == {"a": 1}


# --- list helpers ---------------------------------------------------------------------------------

ITEMS = [
    {"id": "a", "name": "one", "shared": True, "tags": ["x"], "n": 3},
    {"id": "b", "name": "two", "shared": False, "tags": [], "n": 1},
    {"id": "c", "name": "three", "shared": False, "tags": ["x", "y"], "n": 2},
]


class Things(neutron.NeutronAPIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        return neutron.list_response(request, "things", ITEMS,
                                     custom={"odd": lambda item, wanted: (item["n"] % 2 == 1) == (wanted == ["1"])})


def things(query):
    response = Things.as_view()(APIRequestFactory().get("/network/v2.0/things", query))
    response.render()
    return response


def ids(response):
    assert response.status_code == 200, response.data
    return [t["id"] for t in response.data["things"]]


def test_filters_repeatable_values_booleans_and_custom_matchers():
    assert ids(things({"name": ["one", "three"]})) == ["a", "c"]
    assert ids(things({"shared": "true"})) == ["a"]
    assert ids(things({"shared": "False"})) == ["b", "c"]
    assert ids(things({"shared": "false", "name": "two"})) == ["b"]
    assert ids(things({"tags": "y"})) == ["c"]
    assert ids(things({"n": "2"})) == ["c"]
    assert ids(things({"odd": "1"})) == ["a", "b"]
    assert ids(things({"name": "nothing"})) == []
    bad = things({"colour": "red"})
    assert bad.status_code == 400 and bad.data["NeutronError"]["type"] == "HTTPBadRequest"
    assert "colour" in bad.data["NeutronError"]["message"]
    assert things({"shared": "maybe"}).status_code == 400


def test_fields_sort_and_pagination_with_next_links():
    response = things({"fields": ["id", "name"]})
    assert response.data["things"][0] == {"id": "a", "name": "one"}
    assert ids(things({"sort_key": "n"})) == ["b", "c", "a"]
    assert ids(things({"sort_key": "name", "sort_dir": "desc"})) == ["b", "c", "a"]
    assert ids(things({"sort_key": ["shared", "n"], "sort_dir": ["asc", "desc"]})) == ["c", "b", "a"]
    assert things({"sort_key": "nope"}).status_code == 400
    assert things({"sort_key": "n", "sort_dir": "up"}).status_code == 400

    first = things({"limit": "2"})
    assert ids(first) == ["a", "b"]
    (link,) = first.data["things_links"]
    assert link["rel"] == "next"
    assert link["href"].startswith("http://testserver/network/v2.0/things?")
    assert "marker=b" in link["href"] and "limit=2" in link["href"]
    second = things({"limit": "2", "marker": "b"})
    assert ids(second) == ["c"] and "things_links" not in second.data
    assert ids(things({"marker": "a"})) == ["b", "c"]
    assert things({"limit": "x"}).status_code == 400
    assert things({"limit": "-1"}).status_code == 400
    assert things({"marker": "zzz"}).status_code == 404


def test_timestamp_format():
    assert neutron.timestamp(datetime(2026, 12, 7, 4, 46, 53, 123456, tzinfo=UTC)) == "2026-12-07T04:46:53Z"
    assert neutron.timestamp(None) is None


# --- ports: allocated fixed IPs ------------------------------------------------------------------

@pytest.fixture
def net():
    return networks.create_network("portnet", "10.200.60.0/24", bridge="cptport1", bridge_interface="")


def test_a_port_is_an_allocated_fixed_ip_and_goes_with_its_release(net, member_account):
    user, project, _ = member_account
    vm = make_instance(project, user)
    row = fixed_ips.allocate_fixed_ip(net, vm.uuid, host="h1")
    assert row.port_id is not None
    port = ports.find_port(row.port_id)
    assert (port.id, port.network.pk, port.instance_uuid, port.address, port.mac, port.host, port.project_id) == (
        str(row.port_id), net.pk, str(vm.uuid), row.address, row.mac_address, "h1", project.id)
    assert ports.find_port(str(row.port_id)) == port
    assert ports.ports_of_instance(vm.uuid) == [port]
    assert ports.ports(network_ids=[net.uuid]) == [port]
    assert ports.ports(project_id=project.id) == [port]
    assert ports.ports(project_id="someone-else") == []
    assert ports.ports(addresses=[row.address], macs=[row.mac_address.upper()]) == [port]
    assert ports.ports(ids=["not-a-uuid"]) == []
    assert ports.find_port("not-a-uuid") is None
    again = fixed_ips.allocate_fixed_ip(net, vm.uuid, host="h1")  # a re-delivered task: same port
    assert again.port_id == row.port_id

    fixed_ips.release_fixed_ip(vm.uuid)
    assert ports.find_port(row.port_id) is None
    assert FixedIP.objects.get(pk=row.pk).port_id is None
    assert ports.ports_of_instance(vm.uuid) == []
    other = make_instance(project, user)
    assert fixed_ips.allocate_fixed_ip(net, other.uuid).port_id not in (None, row.port_id)


def test_migration_backfills_ports_of_existing_allocations(net):
    vm = uuid.uuid4()
    row = fixed_ips.allocate_fixed_ip(net, vm)
    FixedIP.objects.filter(pk=row.pk).update(port_id=None)
    module = __import__("network.migrations.0004_fixedip_port_id", fromlist=["backfill"])
    module.backfill(apps, None)
    assert FixedIP.objects.get(pk=row.pk).port_id is not None
    assert FixedIP.objects.filter(port_id__isnull=False).count() == 1
