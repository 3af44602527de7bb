"""Keystone-compatible discovery and token API, as a client sees it."""
import re

import pytest

from identity.services import accounts, tokens
from cloudproj.testing.clients import TokenClient

pytestmark = pytest.mark.django_db

ISO_MICRO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def password_auth(name="admin", password="secret-pass", project="admin", domain=None):
    if domain is None:
        domain = {"name": "Default"}
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": name, "domain": domain, "password": password}},
            }
        }
    }
    if project is not None:
        body["auth"]["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    return body


def issue(client, body):
    return client.post("/identity/v3/auth/tokens", body, format="json")


# --- discovery ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/identity", "/identity/"])
def test_version_list_offers_v3_without_a_token(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 300
    (version,) = response.json()["versions"]["values"]
    assert version["id"] == "v3.14"
    assert version["status"] == "stable"
    assert version["links"] == [{"rel": "self", "href": "http://testserver/identity/v3/"}]


@pytest.mark.parametrize("path", ["/identity/v3", "/identity/v3/", "/v3", "/v3/"])
def test_v3_version_document(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 200
    version = response.json()["version"]
    assert version["id"] == "v3.14"
    assert version["media-types"] == [
        {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
    ]
    assert version["links"][0]["href"] == "http://testserver/identity/v3/"


def test_public_endpoint_setting_drives_absolute_urls(anon_client, settings):
    settings.PUBLIC_ENDPOINT = "https://cloud.example.org/"
    version = anon_client.get("/identity/v3").json()["version"]
    assert version["links"][0]["href"] == "https://cloud.example.org/identity/v3/"


def test_version_documents_ignore_a_stale_token(roles):
    assert TokenClient("no-such-token").get("/identity/v3").status_code == 200


# --- issue -------------------------------------------------------------------------------


def test_password_token_scoped_by_project_name(anon_client, admin_account):
    user, project, _ = admin_account
    response = issue(anon_client, password_auth())
    assert response.status_code == 201
    token_id = response["X-Subject-Token"]
    assert token_id and token_id not in response.content.decode()
    assert "X-Auth-Token" in response["Vary"]
    token = response.json()["token"]
    assert token["methods"] == ["password"]
    assert ISO_MICRO_Z.match(token["expires_at"]) and ISO_MICRO_Z.match(token["issued_at"])
    assert token["project"] == {"id": project.id, "name": "admin", "domain": {"id": "default", "name": "Default"}}
    assert token["user"] == {
        "id": user.id,
        "name": "admin",
        "domain": {"id": "default", "name": "Default"},
        "password_expires_at": None,
    }
    assert token["is_domain"] is False
    assert {"id": accounts.Role.objects.get(name="admin").id, "name": "admin"} in token["roles"]
    assert len(token["audit_ids"]) == 1
    # the new token works for later requests
    assert TokenClient(token_id).get("/identity/v3/auth/projects").status_code == 200


def test_catalog_has_identity_compute_image_volume_network(anon_client, admin_account):
    project = admin_account[1]
    catalog = issue(anon_client, password_auth()).json()["token"]["catalog"]
    by_type = {entry["type"]: entry for entry in catalog}
    assert set(by_type) == {"identity", "compute", "image", "block-storage", "volumev3", "network", "ec2"}
    assert by_type["ec2"]["endpoints"][0]["url"] == "http://testserver/ec2/"
    compute = by_type["compute"]
    assert compute["name"] == "nova"
    assert {e["interface"] for e in compute["endpoints"]} == {"public", "internal", "admin"}
    public = next(e for e in compute["endpoints"] if e["interface"] == "public")
    assert public["url"] == "http://testserver/compute/v2.1"
    assert public["region"] == public["region_id"] == "RegionOne"
    volume_url = by_type["block-storage"]["endpoints"][0]["url"]
    assert volume_url == f"http://testserver/volume/v3/{project.id}"
    assert by_type["identity"]["endpoints"][0]["url"] == "http://testserver/identity"
    assert by_type["image"]["name"] == "glance"
    assert by_type["network"]["endpoints"][0]["url"] == "http://testserver/network"  # no version


def test_password_token_by_user_id_and_project_id(anon_client, admin_account):
    user, project, _ = admin_account
    body = {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": {"id": user.id, "password": "secret-pass"}}},
            "scope": {"project": {"id": project.id}},
        }
    }
    response = issue(anon_client, body)
    assert response.status_code == 201
    assert response.json()["token"]["project"]["id"] == project.id


def test_unscoped_token_has_no_project_nor_catalog(anon_client, admin_account):
    """Keystone: `"scope": "unscoped"` (or no scope and no usable default project) is an unscoped
    token, without project, roles or catalog (tempest test_rescope_token); no scope with a
    default project the user has a role on is scoped to it (tempest test_default_project_id)."""
    body = password_auth(project=None)
    body["auth"]["scope"] = "unscoped"
    response = issue(anon_client, body)
    assert response.status_code == 201
    token = response.json()["token"]
    assert "project" not in token and "roles" not in token and "catalog" not in token
    user, project, _ = admin_account
    token = issue(anon_client, password_auth(project=None)).json()["token"]
    assert token["project"]["id"] == project.id and token["roles"] and isinstance(token["catalog"], list)
    user.default_project = None
    user.save()
    token = issue(anon_client, password_auth(project=None)).json()["token"]
    assert "project" not in token and "catalog" not in token


@pytest.mark.parametrize(
    "body",
    [
        password_auth(password="wrong"),
        password_auth(name="nobody"),
        password_auth(domain={"name": "Other"}),
        password_auth(project="no-such-project"),
    ],
)
def test_bad_credentials_or_scope_are_401_with_the_keystone_envelope(anon_client, admin_account, body):
    response = issue(anon_client, body)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error == {"code": 401, "message": error["message"], "title": "Unauthorized"}
    assert "X-Subject-Token" not in response


def test_user_without_a_role_on_the_project_is_401(anon_client, admin_account, make_account):
    make_account("other", "member")
    response = issue(anon_client, password_auth(project="other"))
    assert response.status_code == 401


def test_disabled_user_or_project_is_401(anon_client, admin_account):
    user, project, _ = admin_account
    project.enabled = False
    project.save()
    assert issue(anon_client, password_auth()).status_code == 401
    project.enabled = True
    project.save()
    user.is_active = False
    user.save()
    assert issue(anon_client, password_auth()).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"auth": "x"},
        {"auth": {"identity": {"methods": "password"}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin"}}}}},
        {"auth": {"identity": {"methods": ["password"]}}},
    ],
)
def test_malformed_auth_body_is_400(anon_client, admin_account, body):
    response = issue(anon_client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


def test_unparseable_json_is_400(anon_client, roles):
    response = anon_client.post("/identity/v3/auth/tokens", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["title"] == "Bad Request"


def test_token_method_rescopes_an_unscoped_token(anon_client, admin_account):
    project = admin_account[1]
    unscoped_id = issue(anon_client, password_auth(project=None))["X-Subject-Token"]
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": unscoped_id}},
            "scope": {"project": {"id": project.id}},
        }
    }
    response = issue(anon_client, body)
    assert response.status_code == 201
    token = response.json()["token"]
    # Keystone (tempest test_rescope_token): the chain's first method stays, "token" is added
    assert token["methods"] == ["password", "token"]
    assert token["project"]["id"] == project.id
    assert len(token["audit_ids"]) == 2
    bad = {"auth": {"identity": {"methods": ["token"], "token": {"id": "not-a-token"}}}}
    assert issue(anon_client, bad).status_code == 401


# --- validate, check, revoke -----------------------------------------------------------


def test_validate_check_and_revoke_a_token(admin_client, anon_client, admin_account):
    subject = issue(anon_client, password_auth())["X-Subject-Token"]
    headers = {"HTTP_X_SUBJECT_TOKEN": subject}
    response = admin_client.get("/v3/auth/tokens", **headers)
    assert response.status_code == 200
    assert response["X-Subject-Token"] == subject
    assert response.json()["token"]["project"]["name"] == "admin"
    assert admin_client.head("/identity/v3/auth/tokens", **headers).status_code == 200
    assert admin_client.delete("/identity/v3/auth/tokens", **headers).status_code == 204
    assert admin_client.get("/identity/v3/auth/tokens", **headers).status_code == 404
    assert admin_client.head("/identity/v3/auth/tokens", **headers).status_code == 404
    assert admin_client.delete("/identity/v3/auth/tokens", **headers).status_code == 404
    assert TokenClient(subject).get("/identity/v3/auth/projects").status_code == 401


def test_revoking_a_token_revokes_tokens_rescoped_from_it(anon_client, admin_client, admin_account):
    parent = issue(anon_client, password_auth(project=None))["X-Subject-Token"]
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": parent}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    child = issue(anon_client, body)["X-Subject-Token"]
    # revoking a re-scoped token leaves its parent usable (Keystone; tempest's test_rescope_token)
    other = issue(anon_client, body)["X-Subject-Token"]
    assert admin_client.delete("/identity/v3/auth/tokens", HTTP_X_SUBJECT_TOKEN=other).status_code == 204
    assert TokenClient(other).get("/identity/v3/auth/projects").status_code == 401
    assert TokenClient(child).get("/identity/v3/auth/projects").status_code == 200
    assert issue(anon_client, body).status_code == 201
    assert admin_client.delete("/identity/v3/auth/tokens", HTTP_X_SUBJECT_TOKEN=parent).status_code == 204
    assert TokenClient(child).get("/identity/v3/auth/projects").status_code == 401


def test_member_may_validate_own_token_but_not_others(member_client, member_account, admin_account):
    own = member_account[2]
    assert member_client.get("/v3/auth/tokens", HTTP_X_SUBJECT_TOKEN=own).status_code == 200
    response = member_client.get("/v3/auth/tokens", HTTP_X_SUBJECT_TOKEN=admin_account[2])
    assert response.status_code == 403
    assert response.json()["error"]["title"] == "Forbidden"


def test_validate_needs_a_valid_caller_token(anon_client, admin_account):
    response = anon_client.get("/v3/auth/tokens", HTTP_X_SUBJECT_TOKEN=admin_account[2])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401
    expired = TokenClient("garbage").get("/v3/auth/tokens", HTTP_X_SUBJECT_TOKEN=admin_account[2])
    assert expired.status_code == 401


def test_expired_token_is_401(admin_account):
    token_id, token = tokens.issue_token(admin_account[0], admin_account[1])
    token.expires_at = token.issued_at
    token.save()
    assert TokenClient(token_id).get("/v3/auth/projects").status_code == 401


# --- catalog and projects of the token ----------------------------------------------------


def test_auth_catalog_and_auth_projects(member_client, member_account, make_account):
    make_account("elsewhere", "member")
    catalog = member_client.get("/identity/v3/auth/catalog").json()["catalog"]
    assert {entry["type"] for entry in catalog} >= {"compute", "identity"}
    projects = member_client.get("/identity/v3/auth/projects").json()["projects"]
    assert [p["name"] for p in projects] == ["demo"]
    assert projects[0]["links"]["self"].endswith(f"/identity/v3/projects/{member_account[1].id}")


def test_auth_catalog_of_an_unscoped_token_is_403(admin_account):
    token_id, _ = tokens.issue_token(admin_account[0], None)
    assert TokenClient(token_id).get("/v3/auth/catalog").status_code == 403


# --- the seeds' v2.0 -------------------------------------------------------------------


def test_v2_version_document(anon_client):
    response = anon_client.get("/v2.0/")
    assert response.status_code == 200
    assert response.json()["version"]["id"] == "v2.0"


def test_v2_password_token_with_tenant_name(anon_client, admin_account):
    user, project, _ = admin_account
    body = {"auth": {"passwordCredentials": {"username": "admin", "password": "secret-pass"}, "tenantName": "admin"}}
    response = anon_client.post("/v2.0/tokens", body, format="json")
    assert response.status_code == 200
    access = response.json()["access"]
    assert access["token"]["tenant"] == {"id": project.id, "name": "admin", "description": "", "enabled": True}
    assert access["token"]["expires"].endswith("Z")
    assert access["user"]["id"] == user.id and access["user"]["username"] == "admin"
    assert {"name": "admin"} in access["user"]["roles"]
    assert access["metadata"]["roles"]
    compute = next(s for s in access["serviceCatalog"] if s["type"] == "compute")
    assert compute["endpoints"][0]["publicURL"] == "http://testserver/compute/v2.1"
    # the token id works for v3 calls
    assert TokenClient(access["token"]["id"]).get("/v3/auth/projects").status_code == 200


def test_v2_token_method_and_tenant_id(anon_client, admin_account):
    project = admin_account[1]
    credentials = {"username": "admin", "password": "secret-pass"}
    unscoped = anon_client.post(
        "/v2.0/tokens", {"auth": {"passwordCredentials": credentials}}, format="json"
    ).json()["access"]
    assert "tenant" not in unscoped["token"] and unscoped["serviceCatalog"] == []
    body = {"auth": {"token": {"id": unscoped["token"]["id"]}, "tenantId": project.id}}
    response = anon_client.post("/v2.0/tokens", body, format="json")
    assert response.status_code == 200
    assert response.json()["access"]["token"]["tenant"]["id"] == project.id


def test_v2_wrong_password_is_401(anon_client, admin_account):
    body = {"auth": {"passwordCredentials": {"username": "admin", "password": "nope"}, "tenantName": "admin"}}
    response = anon_client.post("/v2.0/tokens", body, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401
    assert anon_client.post("/v2.0/tokens", {"auth": {}}, format="json").status_code == 400


def test_nocatalog_leaves_the_catalog_out(anon_client, admin_client, admin_account):
    response = anon_client.post("/v3/auth/tokens?nocatalog", password_auth(), format="json")
    assert response.status_code == 201 and "catalog" not in response.json()["token"]
    validated = admin_client.get(
        "/v3/auth/tokens?nocatalog=1", HTTP_X_SUBJECT_TOKEN=response["X-Subject-Token"]
    ).json()["token"]
    assert "catalog" not in validated and validated["project"]["name"] == "admin"


# --- a token stops working everywhere once expired, revoked or its owner disabled ----------


def _refused_everywhere(token_id):
    for path in ("/compute/v2.1/servers", "/identity/v3/auth/projects", "/image/v2/images"):
        response = TokenClient(token_id).get(path)
        assert response.status_code == 401, (path, response.content)
        (fault,) = response.json().values()  # each API's own envelope: error, unauthorized, ...
        assert fault["code"] == 401 and "requires authentication" in fault["message"]


def test_an_expired_token_is_refused_by_every_api(member_account):
    token_id, token = tokens.issue_token(member_account[0], member_account[1])
    assert TokenClient(token_id).get("/compute/v2.1/servers").status_code == 200
    token.expires_at = token.issued_at
    token.save()
    _refused_everywhere(token_id)


def test_a_token_revoked_by_its_owner_is_refused_by_every_api(anon_client, member_account):
    token_id = member_account[2]
    client = TokenClient(token_id)
    assert client.delete("/v3/auth/tokens", HTTP_X_SUBJECT_TOKEN=token_id).status_code == 204
    _refused_everywhere(token_id)


def test_disabling_a_user_refuses_the_tokens_it_already_holds(admin_client, member_account):
    user, _, token_id = member_account
    assert TokenClient(token_id).get("/compute/v2.1/servers").status_code == 200
    response = admin_client.patch(f"/identity/v3/users/{user.id}", {"user": {"enabled": False}}, format="json")
    assert response.status_code == 200, response.content
    _refused_everywhere(token_id)


def test_disabling_a_project_refuses_the_tokens_scoped_to_it(admin_client, member_account):
    _, project, token_id = member_account
    assert TokenClient(token_id).get("/compute/v2.1/servers").status_code == 200
    response = admin_client.patch(f"/identity/v3/projects/{project.id}", {"project": {"enabled": False}},
                                  format="json")
    assert response.status_code == 200, response.content
    for path in ("/compute/v2.1/servers", "/identity/v3/auth/projects"):
        assert TokenClient(token_id).get(path).status_code == 401
