"""Version discovery and microversion negotiation of the compute API."""
import pytest

from compute.api.base import MAX_VERSION, api_version


def test_versions_document_without_token(anon_client):
    resp = anon_client.get("/compute/")
    assert resp.status_code == 200
    legacy, version = resp.json()["versions"]
    # v2.0 first, as Nova lists it: no microversions, its own root
    assert legacy == {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
                      "updated": "2011-01-21T11:33:21Z",
                      "links": [{"rel": "self", "href": "http://testserver/compute/v2/"}]}
    assert set(version) == {"id", "status", "version", "min_version", "updated", "links"}
    assert version["id"] == "v2.1"
    assert version["status"] == "CURRENT"
    assert version["version"] == MAX_VERSION and version["min_version"] == "2.1"
    assert version["updated"] == "2013-07-23T11:33:21Z"
    assert version["links"] == [{"rel": "self", "href": "http://testserver/compute/v2.1/"}]


@pytest.mark.parametrize("path", ["/compute/v2.1", "/compute/v2.1/"])
def test_version_document(anon_client, path):
    resp = anon_client.get(path)
    assert resp.status_code == 200
    doc = resp.json()["version"]
    assert doc["id"] == "v2.1" and doc["version"] == MAX_VERSION
    assert doc["media-types"] == [
        {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}
    ]
    assert doc["links"][0]["href"] == "http://testserver/compute/v2.1/"


@pytest.mark.parametrize("path", ["/compute/v2", "/compute/v2/"])
def test_legacy_v2_version_document(anon_client, path):
    resp = anon_client.get(path)
    assert resp.status_code == 200
    assert resp.json() == {"version": {
        "id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": "http://testserver/compute/v2/"},
                  {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2"}],
    }}


def test_public_endpoint_setting_drives_links(anon_client, settings):
    settings.PUBLIC_ENDPOINT = "https://cloud.example.com:8443/"
    doc = anon_client.get("/compute/v2.1/").json()["version"]
    assert doc["links"][0]["href"] == "https://cloud.example.com:8443/compute/v2.1/"


@pytest.mark.parametrize(
    "headers,negotiated",
    [
        ({}, "2.1"),
        ({"HTTP_OPENSTACK_API_VERSION": "compute 2.1"}, "2.1"),
        ({"HTTP_OPENSTACK_API_VERSION": "compute 2.3"}, "2.3"),
        ({"HTTP_OPENSTACK_API_VERSION": "compute latest"}, MAX_VERSION),
        ({"HTTP_OPENSTACK_API_VERSION": "volume 3.5, compute 2.2"}, "2.2"),
        ({"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.1"}, "2.1"),
        ({"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.9"}, "2.9"),
        ({"HTTP_X_OPENSTACK_NOVA_API_VERSION": "latest"}, MAX_VERSION),
    ],
)
def test_supported_microversions_are_echoed(member_client, headers, negotiated):
    """Every response carries the negotiated version (not the maximum), in both headers."""
    resp = member_client.get("/compute/v2.1/flavors", **headers)
    assert resp.status_code == 200
    assert resp["OpenStack-API-Version"] == f"compute {negotiated}"
    assert resp["X-OpenStack-Nova-API-Version"] == negotiated
    assert "OpenStack-API-Version" in resp["Vary"]


def test_api_version_compares_numerically():
    """2.10 is above 2.9: versions compare as integer pairs, never as strings."""
    from rest_framework.test import APIRequestFactory

    request = APIRequestFactory().get("/")
    assert api_version(request) == (2, 1)  # no negotiation yet: the minimum
    request.compute_microversion = "2.10"
    assert api_version(request) > (2, 9) and api_version(request) >= (2, 10) and api_version(request) < (2, 11)


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_OPENSTACK_API_VERSION": "compute 2.99"}, {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "3.0"},
     {"HTTP_OPENSTACK_API_VERSION": "compute 2.0"}],
)
def test_unsupported_microversion_is_406(member_client, headers):
    resp = member_client.get("/compute/v2.1/flavors", **headers)
    assert resp.status_code == 406
    body = resp.json()
    assert body["notAcceptable"]["code"] == 406
    assert "2.1" in body["notAcceptable"]["message"] and MAX_VERSION in body["notAcceptable"]["message"]
    assert resp["OpenStack-API-Version"] == "compute 2.1"


def test_malformed_microversion_is_400(member_client):
    resp = member_client.get("/compute/v2.1/flavors", HTTP_OPENSTACK_API_VERSION="compute two")
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["code"] == 400


def test_token_required_for_resources(anon_client):
    resp = anon_client.get("/compute/v2.1/flavors")
    assert resp.status_code == 401
    assert resp.json()["unauthorized"]["code"] == 401


def test_unknown_path_is_enveloped_404(member_client):
    resp = member_client.get("/compute/v2.1/no-such-thing")
    assert resp.status_code == 404
    assert "itemNotFound" in resp.json()
