"""Identity v3 application credentials: create (secret once, hashed), list/show/delete, auth."""
from datetime import timedelta

import pytest
from django.utils import timezone

from cloudproj.testing.clients import TokenClient
from identity.models import ApplicationCredential
from identity.services import accounts

pytestmark = pytest.mark.django_db


def app_cred_auth(**method):
    return {"auth": {"identity": {"methods": ["application_credential"], "application_credential": method}}}


@pytest.fixture
def alice(roles, make_account):
    user, project, token_id = make_account("team", "member", username="alice")
    accounts.assign_role(user, roles["reader"], project)
    return user, project, TokenClient(token_id)


def test_create_use_list_delete(alice, anon_client, roles):
    user, project, client = alice
    url = f"/v3/users/{user.id}/application_credentials"
    response = client.post(url, {"application_credential": {"name": "ci", "roles": [{"name": "reader"}]}},
                           format="json")
    assert response.status_code == 201, response.content
    created = response.json()["application_credential"]
    secret = created.pop("secret")
    assert len(secret) > 32
    assert created == {
        "id": created["id"],
        "name": "ci",
        "description": None,
        "user_id": user.id,
        "project_id": project.id,
        "system": None,
        "roles": [{"id": roles["reader"].id, "name": "reader", "domain_id": None}],
        "expires_at": None,
        "unrestricted": False,
        "access_rules": [],
        "links": {"self": f"http://testserver/identity/v3/users/{user.id}/application_credentials/{created['id']}"},
    }
    stored = ApplicationCredential.objects.get(pk=created["id"])
    assert secret not in stored.secret_hash
    shown = client.get(f"{url}/{created['id']}").json()["application_credential"]
    assert "secret" not in shown and shown["name"] == "ci"
    assert [c["id"] for c in client.get(url).json()["application_credentials"]] == [created["id"]]
    assert [c["name"] for c in client.get(f"{url}?name=ci").json()["application_credentials"]] == ["ci"]
    assert client.post(url, {"application_credential": {"name": "ci"}}, format="json").status_code == 409

    # Authenticate with id + secret: scoped to the project, with the credential's roles only.
    response = anon_client.post("/v3/auth/tokens", app_cred_auth(id=created["id"], secret=secret), format="json")
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    assert token["methods"] == ["application_credential"]
    assert token["project"]["id"] == project.id
    assert [r["name"] for r in token["roles"]] == ["reader"]
    assert token["application_credential"] == {"id": created["id"], "name": "ci", "restricted": True}
    assert any(s["type"] == "compute" for s in token["catalog"])
    app_client = TokenClient(response.headers["X-Subject-Token"])
    # A restricted credential's token cannot make or delete credentials.
    assert app_client.post(url, {"application_credential": {"name": "x"}}, format="json").status_code == 403
    assert app_client.delete(f"{url}/{created['id']}").status_code == 403

    # name + user + secret works too; a wrong secret is a 401.
    by_name = app_cred_auth(name="ci", user={"name": "alice", "domain": {"name": "Default"}}, secret=secret)
    assert anon_client.post("/v3/auth/tokens", by_name, format="json").status_code == 201
    wrong = anon_client.post("/v3/auth/tokens", app_cred_auth(id=created["id"], secret="nope"), format="json")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == 401

    # Delete: gone, its tokens are dead, the secret no longer works.
    assert client.delete(f"{url}/{created['id']}").status_code == 204
    assert client.get(f"{url}/{created['id']}").status_code == 404
    assert app_client.get("/v3/auth/catalog").status_code == 401
    again = anon_client.post("/v3/auth/tokens", app_cred_auth(id=created["id"], secret=secret), format="json")
    assert again.status_code == 401


def test_roles_lost_by_the_user_leave_the_credential(alice, anon_client, roles):
    user, project, client = alice
    body = {"application_credential": {"name": "c", "secret": "my-secret", "unrestricted": True}}
    created = client.post(f"/v3/users/{user.id}/application_credentials", body, format="json").json()
    cred = created["application_credential"]
    assert cred["secret"] == "my-secret" and cred["unrestricted"] is True
    assert {r["name"] for r in cred["roles"]} == {"member", "reader"}
    accounts.remove_role(user, roles["member"], project)
    token = anon_client.post("/v3/auth/tokens", app_cred_auth(id=cred["id"], secret="my-secret"), format="json")
    assert [r["name"] for r in token.json()["token"]["roles"]] == ["reader"]
    assert token.json()["token"]["application_credential"]["restricted"] is False
    accounts.remove_role(user, roles["reader"], project)
    denied = anon_client.post("/v3/auth/tokens", app_cred_auth(id=cred["id"], secret="my-secret"), format="json")
    assert denied.status_code == 401


def test_expired_credential_cannot_authenticate(alice, anon_client):
    user, project, _ = alice
    credential, secret = accounts.create_application_credential(user, project, "old", [], secret="s")
    credential.expires_at = timezone.now() - timedelta(seconds=1)
    credential.save()
    assert anon_client.post("/v3/auth/tokens", app_cred_auth(id=credential.id, secret="s"),
                            format="json").status_code == 401


def test_token_expiry_capped_by_credential(alice, anon_client):
    user, _, client = alice
    expires = (timezone.now() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
    body = {"application_credential": {"name": "short", "expires_at": expires}}
    cred = client.post(f"/v3/users/{user.id}/application_credentials", body, format="json").json()
    cred = cred["application_credential"]
    assert cred["expires_at"].startswith(expires)
    token = anon_client.post("/v3/auth/tokens", app_cred_auth(id=cred["id"], secret=cred["secret"]), format="json")
    # Keystone: the credential's expiry without a zone suffix, the token's with "Z"
    assert "Z" not in cred["expires_at"] and token.json()["token"]["expires_at"] == cred["expires_at"] + "Z"


@pytest.mark.parametrize(
    "ref, status",
    [
        ({}, 400),
        ({"name": 5}, 400),
        ({"name": "x", "expires_at": "yesterday"}, 400),
        ({"name": "x", "expires_at": "2099-13-45T00:00:00"}, 400),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, 400),
        ({"name": "x", "roles": "admin"}, 400),
        ({"name": "x", "roles": [{"name": "admin"}]}, 404),
        ({"name": "x", "unrestricted": "yes"}, 400),
        ({"name": "x", "secret": ""}, 400),
        ({"name": "x", "access_rules": [{"path": "/v2.1/servers", "method": "GET", "service": "compute"}]}, 400),
    ],
)
def test_bad_create_bodies(alice, ref, status):
    user, _, client = alice
    response = client.post(f"/v3/users/{user.id}/application_credentials", {"application_credential": ref},
                           format="json")
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == status
    assert not ApplicationCredential.objects.exists()


def test_only_for_oneself(alice, admin_client, member_client, anon_client):
    user, _, _ = alice
    url = f"/v3/users/{user.id}/application_credentials"
    assert admin_client.post(url, {"application_credential": {"name": "x"}}, format="json").status_code == 403
    assert member_client.get(url).status_code == 403
    bad = anon_client.post("/v3/auth/tokens", app_cred_auth(id="x"), format="json")
    assert bad.status_code == 400
