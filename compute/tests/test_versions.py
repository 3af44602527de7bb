"""Version discovery and microversion negotiation of the compute API."""
import pytest


def test_versions_document_without_token(anon_client):
    resp = anon_client.get("/compute/")
    assert resp.status_code == 200
    (version,) = resp.json()["versions"]
    assert version["id"] == "v2.1"
    assert version["status"] == "CURRENT"
    assert version["version"] == "2.1" and version["min_version"] == "2.1"
    assert version["updated"] == "2013-07-23T11:33:21Z"
    assert version["links"] == [{"rel": "self", "href": "http://testserver/compute/v2.1/"}]


@pytest.mark.parametrize("path", ["/compute/v2.1", "/compute/v2.1/"])
def test_version_document(anon_client, path):
    resp = anon_client.get(path)
    assert resp.status_code == 200
    doc = resp.json()["version"]
    assert doc["id"] == "v2.1" and doc["version"] == "2.1"
    assert doc["media-types"] == [
        {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}
    ]
    assert doc["links"][0]["href"] == "http://testserver/compute/v2.1/"


def test_public_endpoint_setting_drives_links(anon_client, settings):
    settings.PUBLIC_ENDPOINT = "https://cloud.example.com:8443/"
    doc = anon_client.get("/compute/v2.1/").json()["version"]
    assert doc["links"][0]["href"] == "https://cloud.example.com:8443/compute/v2.1/"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_OPENSTACK_API_VERSION": "compute 2.1"},
        {"HTTP_OPENSTACK_API_VERSION": "compute latest"},
        {"HTTP_OPENSTACK_API_VERSION": "volume 3.5, compute 2.1"},
        {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.1"},
    ],
)
def test_supported_microversions(member_client, headers):
    resp = member_client.get("/compute/v2.1/flavors", **headers)
    assert resp.status_code == 200
    assert resp["OpenStack-API-Version"] == "compute 2.1"
    assert "OpenStack-API-Version" in resp["Vary"]


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_OPENSTACK_API_VERSION": "compute 2.50"}, {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "3.0"}],
)
def test_unsupported_microversion_is_406(member_client, headers):
    resp = member_client.get("/compute/v2.1/flavors", **headers)
    assert resp.status_code == 406
    body = resp.json()
    assert body["notAcceptable"]["code"] == 406
    assert "2.1" in body["notAcceptable"]["message"]
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
