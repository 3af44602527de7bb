"""Block Storage v3: version documents, quota sets and limits as clients see them."""
import pytest

from identity.services import quotas

pytestmark = pytest.mark.django_db

VOLUME_KEYS = {"volumes", "gigabytes", "snapshots", "per_volume_gigabytes", "backups", "backup_gigabytes", "groups",
               # per volume type (Cinder's): only the default type exists here
               "volumes___DEFAULT__", "gigabytes___DEFAULT__", "snapshots___DEFAULT__"}



@pytest.mark.parametrize("path", ["/volume/", "/volume/v3", "/volume/v3/", "/volume/v3/abc", "/volume/v3/abc/"])
def test_version_documents_need_no_token(anon_client, path):
    resp = anon_client.get(path)
    assert resp.status_code == (300 if path == "/volume/" else 200), path  # the root: Multiple Choices
    (version,) = resp.json()["versions"]
    assert version["id"] == "v3.0" and version["status"] == "CURRENT"
    assert version["version"] == "3.7" and version["min_version"] == "3.0"
    assert version["updated"].endswith("Z")
    self_link = [link["href"] for link in version["links"] if link["rel"] == "self"]
    assert self_link == ["http://testserver/volume/v3/"]
    assert version["media-types"][0]["base"] == "application/json"
    assert resp["OpenStack-API-Version"] == "volume 3.0"


def test_version_document_uses_public_endpoint(anon_client, settings):
    settings.PUBLIC_ENDPOINT = "https://cloud.example.com:8774/"
    version = anon_client.get("/volume/").json()["versions"][0]
    assert version["links"][0]["href"] == "https://cloud.example.com:8774/volume/v3/"


def test_show_quota_set(member_client, demo):
    resp = member_client.get(f"/volume/v3/{demo.id}/os-quota-sets/{demo.id}?usage=False")
    assert resp.status_code == 200
    body = resp.json()["quota_set"]
    assert set(body) == VOLUME_KEYS | {"id"}
    assert body["id"] == demo.id
    assert (body["volumes"], body["gigabytes"], body["snapshots"]) == (10, 1000, 10)
    assert (body["per_volume_gigabytes"], body["backups"], body["backup_gigabytes"]) == (-1, 10, 1000)


def test_show_quota_set_with_usage(member_client, demo):
    quotas.commit(quotas.reserve(demo, {"volumes": 2, "gigabytes": 20}))
    quotas.reserve(demo, {"gigabytes": 5})
    resp = member_client.get(f"/volume/v3/{demo.id}/os-quota-sets/{demo.id}/?usage=True")
    body = resp.json()["quota_set"]
    assert body["volumes"] == {"limit": 10, "in_use": 2, "reserved": 0}
    assert body["gigabytes"] == {"limit": 1000, "in_use": 20, "reserved": 5}
    assert member_client.get(f"/volume/v3/{demo.id}/os-quota-sets/{demo.id}?usage=maybe").status_code == 400


def test_defaults(member_client, demo):
    quotas.set_quota(demo, "volumes", 3)
    resp = member_client.get(f"/volume/v3/{demo.id}/os-quota-sets/{demo.id}/defaults")
    assert resp.status_code == 200
    assert resp.json()["quota_set"]["volumes"] == 10


def test_admin_updates_another_projects_quota(admin_client, admin_project, demo, member_client):
    url = f"/volume/v3/{admin_project.id}/os-quota-sets/{demo.id}"
    resp = admin_client.put(url, {"quota_set": {"volumes": 3, "gigabytes": "50"}}, format="json")
    assert resp.status_code == 200, resp.content
    body = resp.json()["quota_set"]
    assert set(body) == VOLUME_KEYS
    assert (body["volumes"], body["gigabytes"]) == (3, 50)
    shown = member_client.get(f"/volume/v3/{demo.id}/os-quota-sets/{demo.id}").json()["quota_set"]
    assert (shown["volumes"], shown["gigabytes"]) == (3, 50)
    # compute quotas are untouched by a volume update and its reset
    quotas.set_quota(demo, "instances", 4)
    assert admin_client.delete(url).status_code == 200
    shown = member_client.get(f"/volume/v3/{demo.id}/os-quota-sets/{demo.id}").json()["quota_set"]
    assert shown["volumes"] == 10
    assert quotas.get_quotas(demo)["instances"] == 4


@pytest.mark.parametrize(
    "body",
    [
        {"quota_set": {"volumes": "many"}},
        {"quota_set": {"volumes": -2}},
        {"quota_set": {"instances": 1}},
        {"quota_set": {"volumes": 1, "force": True}},
        {"quota_set": None},
        "volumes",
    ],
)
def test_bad_updates_are_400(admin_client, admin_project, demo, body):
    resp = admin_client.put(f"/volume/v3/{admin_project.id}/os-quota-sets/{demo.id}", body, format="json")
    assert resp.status_code == 400, resp.content
    assert resp.json()["badRequest"]["code"] == 400


def test_malformed_json_is_400(admin_client, admin_project):
    resp = admin_client.put(
        f"/volume/v3/{admin_project.id}/os-quota-sets/{admin_project.id}",
        data="{", content_type="application/json",
    )
    assert resp.status_code == 400 and "badRequest" in resp.json()


def test_member_permissions(member_client, demo, make_account):
    _, other, _ = make_account("other", "member")
    base = f"/volume/v3/{demo.id}/os-quota-sets"
    assert member_client.get(f"{base}/{other.id}").status_code == 404
    resp = member_client.put(f"{base}/{demo.id}", {"quota_set": {"volumes": 99}}, format="json")
    assert resp.status_code == 403 and resp.json()["forbidden"]["code"] == 403
    assert member_client.delete(f"{base}/{demo.id}").status_code == 403
    # the project in the URL must be the token's
    assert member_client.get(f"/volume/v3/{other.id}/os-quota-sets/{demo.id}").status_code == 400


def test_unknown_project_is_404(admin_client, admin_project):
    base = f"/volume/v3/{admin_project.id}/os-quota-sets/nope"
    assert admin_client.get(base).json()["itemNotFound"]["code"] == 404
    assert admin_client.get(f"{base}/defaults").status_code == 404
    assert admin_client.put(base, {"quota_set": {"volumes": 1}}, format="json").status_code == 404


def test_limits(member_client, demo):
    quotas.set_quota(demo, "volumes", 4)
    quotas.commit(quotas.reserve(demo, {"volumes": 1, "gigabytes": 8, "snapshots": 2}))
    resp = member_client.get(f"/volume/v3/{demo.id}/limits", HTTP_OPENSTACK_API_VERSION="volume 3.0")
    assert resp.status_code == 200
    assert resp["OpenStack-API-Version"] == "volume 3.0"
    limits = resp.json()["limits"]
    assert limits["rate"] == []
    assert limits["absolute"] == {
        "maxTotalVolumes": 4,
        "maxTotalSnapshots": 10,
        "maxTotalVolumeGigabytes": 1000,
        "maxTotalBackups": 10,
        "maxTotalBackupGigabytes": 1000,
        "totalVolumesUsed": 1,
        "totalSnapshotsUsed": 2,
        "totalGigabytesUsed": 8,
        "totalBackupsUsed": 0,
        "totalBackupGigabytesUsed": 0,
    }


def test_limits_of_another_project(admin_client, admin_project, member_client, demo, make_account):
    quotas.set_quota(demo, "volumes", 2)
    resp = admin_client.get(f"/volume/v3/{admin_project.id}/limits?project_id={demo.id}")
    assert resp.json()["limits"]["absolute"]["maxTotalVolumes"] == 2
    _, other, _ = make_account("other", "member")
    assert member_client.get(f"/volume/v3/{demo.id}/limits?project_id={other.id}").status_code == 403


def test_microversions(member_client, demo):
    url = f"/volume/v3/{demo.id}/limits"
    assert member_client.get(url, HTTP_OPENSTACK_API_VERSION="volume latest").status_code == 200
    resp = member_client.get(url, HTTP_OPENSTACK_API_VERSION="volume 3.71")
    assert resp.status_code == 406 and resp.json()["notAcceptable"]["code"] == 406
    assert member_client.get(url, HTTP_OPENSTACK_API_VERSION="volume x").status_code == 400
    # another service's header is not ours to judge
    assert member_client.get(url, HTTP_OPENSTACK_API_VERSION="compute 2.90").status_code == 200


def test_no_token_is_401(anon_client, demo):
    resp = anon_client.get(f"/volume/v3/{demo.id}/limits")
    assert resp.status_code == 401 and resp.json()["unauthorized"]["code"] == 401
