"""Identity v3 groups (membership, grants that count in tokens), domains, 255-character names."""
import pytest

from cloudproj.testing.clients import TokenClient
from identity.models import Domain, Project, User
from identity.services import accounts

pytestmark = pytest.mark.django_db


def password_auth(name, project=None, domain="Default", project_domain="Default", password="secret-pass"):
    auth = {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"name": name, "domain": {"name": domain}, "password": password}},
        }
    }
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"name": project_domain}}}
    return {"auth": auth}


def test_group_crud_and_membership(admin_client, member_account):
    user = member_account[0]
    response = admin_client.post("/v3/groups", {"group": {"name": "ops", "description": "operators"}}, format="json")
    assert response.status_code == 201
    group = response.json()["group"]
    assert group | {"id": "x", "links": {}} == {
        "id": "x", "name": "ops", "description": "operators", "domain_id": "default", "links": {}
    }
    assert group["links"]["self"] == f"http://testserver/identity/v3/groups/{group['id']}"
    gid = group["id"]
    assert admin_client.post("/v3/groups", {"group": {"name": "ops"}}, format="json").status_code == 409
    assert [g["name"] for g in admin_client.get("/v3/groups?name=ops").json()["groups"]] == ["ops"]
    patched = admin_client.patch(f"/v3/groups/{gid}", {"group": {"description": "d2"}}, format="json")
    assert patched.status_code == 200 and patched.json()["group"]["description"] == "d2"

    member_url = f"/v3/groups/{gid}/users/{user.id}"
    assert admin_client.head(member_url).status_code == 404
    assert admin_client.put(member_url).status_code == 204
    assert admin_client.head(member_url).status_code == 204
    assert [u["id"] for u in admin_client.get(f"/v3/groups/{gid}/users").json()["users"]] == [user.id]
    assert [g["id"] for g in admin_client.get(f"/v3/users/{user.id}/groups").json()["groups"]] == [gid]
    assert admin_client.delete(member_url).status_code == 204
    assert admin_client.delete(member_url).status_code == 404
    assert admin_client.get(f"/v3/groups/{gid}/users").json()["users"] == []
    assert admin_client.put(f"/v3/groups/{gid}/users/nobody").status_code == 404
    assert admin_client.delete(f"/v3/groups/{gid}").status_code == 204
    assert admin_client.get(f"/v3/groups/{gid}").json()["error"]["code"] == 404


@pytest.mark.parametrize("ref", [{}, {"name": 3}, {"name": "x" * 256}, {"name": "g", "domain_id": "nope"}])
def test_bad_group_bodies(admin_client, ref):
    response = admin_client.post("/v3/groups", {"group": ref}, format="json")
    assert response.status_code in (400, 404)
    assert response.json()["error"]["code"] == response.status_code


def test_groups_are_admin_only(member_client):
    response = member_client.post("/v3/groups", {"group": {"name": "x"}}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == 403


def test_group_role_on_project_scopes_tokens_and_shows_as_effective(admin_client, roles, anon_client):
    project = accounts.create_project("team")
    user = accounts.create_user("alice", "secret-pass")
    # No role at all: cannot scope to the project.
    assert anon_client.post("/v3/auth/tokens", password_auth("alice", "team"), format="json").status_code == 401

    gid = admin_client.post("/v3/groups", {"group": {"name": "team-members"}}, format="json").json()["group"]["id"]
    assert admin_client.put(f"/v3/groups/{gid}/users/{user.id}").status_code == 204
    grant = f"/v3/projects/{project.id}/groups/{gid}/roles/{roles['member'].id}"
    assert admin_client.head(grant).status_code == 404
    assert admin_client.put(grant).status_code == 204
    assert admin_client.head(grant).status_code == 204
    listed = admin_client.get(f"/v3/projects/{project.id}/groups/{gid}/roles").json()["roles"]
    assert [r["name"] for r in listed] == ["member"]

    response = anon_client.post("/v3/auth/tokens", password_auth("alice", "team"), format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    assert token["project"]["id"] == project.id
    assert [r["name"] for r in token["roles"]] == ["member"]
    alice = TokenClient(response.headers["X-Subject-Token"])
    assert [p["name"] for p in alice.get("/v3/auth/projects").json()["projects"]] == ["team"]

    plain = admin_client.get(f"/v3/role_assignments?scope.project.id={project.id}").json()["role_assignments"]
    assert plain == [
        {
            "role": {"id": roles["member"].id},
            "group": {"id": gid},
            "scope": {"project": {"id": project.id}},
            "links": {"assignment": f"http://testserver/identity{grant}"},
        }
    ]
    effective = admin_client.get(
        f"/v3/role_assignments?effective&user.id={user.id}&include_names"
    ).json()["role_assignments"]
    assert len(effective) == 1
    assert effective[0]["user"] == {"id": user.id, "name": "alice", "domain": {"id": "default", "name": "Default"}}
    assert effective[0]["scope"]["project"]["name"] == "team"
    assert effective[0]["links"]["membership"].endswith(f"/groups/{gid}/users/{user.id}")
    assert admin_client.get(f"/v3/role_assignments?effective&group.id={gid}").status_code == 400

    # Leaving the group takes the role away: the old token is revoked, a new one cannot scope.
    assert admin_client.delete(f"/v3/groups/{gid}/users/{user.id}").status_code == 204
    assert alice.get("/v3/auth/projects").status_code == 401
    assert anon_client.post("/v3/auth/tokens", password_auth("alice", "team"), format="json").status_code == 401
    assert admin_client.delete(grant).status_code == 204
    assert admin_client.delete(grant).status_code == 404


def test_group_role_on_domain(admin_client, roles):
    gid = admin_client.post("/v3/groups", {"group": {"name": "dom"}}, format="json").json()["group"]["id"]
    grant = f"/v3/domains/default/groups/{gid}/roles/{roles['reader'].id}"
    assert admin_client.put(grant).status_code == 204
    body = admin_client.get("/v3/role_assignments?scope.domain.id=default").json()["role_assignments"]
    assert body == [
        {
            "role": {"id": roles["reader"].id},
            "group": {"id": gid},
            "scope": {"domain": {"id": "default"}},
            "links": {"assignment": f"http://testserver/identity{grant}"},
        }
    ]
    assert admin_client.put(f"/v3/domains/nope/groups/{gid}/roles/{roles['reader'].id}").status_code == 404


# --- domains -------------------------------------------------------------------------------


def test_domain_create_update_disable_delete(admin_client, anon_client, roles):
    response = admin_client.post("/v3/domains", {"domain": {"name": "acme", "description": "a"}}, format="json")
    assert response.status_code == 201
    domain = response.json()["domain"]
    assert domain | {"id": "x", "links": {}} == {
        "id": "x", "name": "acme", "description": "a", "enabled": True, "tags": [], "options": {}, "links": {}
    }
    did = domain["id"]
    project = admin_client.post("/v3/projects", {"project": {"name": "acme-p", "domain_id": did}}, format="json")
    assert project.status_code == 201 and project.json()["project"]["domain_id"] == did
    user = admin_client.post(
        "/v3/users", {"user": {"name": "acme-u", "domain_id": did, "password": "secret-pass"}}, format="json"
    )
    assert user.status_code == 201 and user.json()["user"]["domain_id"] == did
    uid, pid = user.json()["user"]["id"], project.json()["project"]["id"]
    assert admin_client.put(f"/v3/projects/{pid}/users/{uid}/roles/{roles['member'].id}").status_code == 204
    login = anon_client.post("/v3/auth/tokens", password_auth("acme-u", "acme-p", "acme", "acme"), format="json")
    assert login.status_code == 201
    assert login.json()["token"]["user"]["domain"] == {"id": did, "name": "acme"}
    # The name alone in another domain does not find the user.
    assert anon_client.post("/v3/auth/tokens", password_auth("acme-u"), format="json").status_code == 401

    assert admin_client.delete(f"/v3/domains/{did}").status_code == 403
    patched = admin_client.patch(f"/v3/domains/{did}", {"domain": {"enabled": False, "name": "acme2"}}, format="json")
    assert patched.status_code == 200
    assert patched.json()["domain"]["enabled"] is False and patched.json()["domain"]["name"] == "acme2"
    # Disabled: the old token is dead and nobody of the domain can log in.
    assert TokenClient(login.headers["X-Subject-Token"]).get("/v3/auth/projects").status_code == 401
    denied = anon_client.post("/v3/auth/tokens", password_auth("acme-u", "acme-p", "acme2", "acme2"), format="json")
    assert denied.status_code == 401
    assert [d["name"] for d in admin_client.get("/v3/domains?enabled=false").json()["domains"]] == ["acme2"]

    assert admin_client.delete(f"/v3/domains/{did}").status_code == 204
    assert admin_client.get(f"/v3/domains/{did}").status_code == 404
    assert not Project.objects.filter(pk=pid).exists() and not User.objects.filter(pk=uid).exists()


def test_default_domain_stays(admin_client, member_client):
    assert admin_client.patch("/v3/domains/default", {"domain": {"enabled": False}}, format="json").status_code == 403
    assert admin_client.delete("/v3/domains/default").status_code == 403
    assert member_client.post("/v3/domains", {"domain": {"name": "x"}}, format="json").status_code == 403
    assert admin_client.post("/v3/domains", {"domain": {"name": "Default"}}, format="json").status_code == 409
    bad = admin_client.patch("/v3/domains/default", {"domain": {"enabled": "no"}}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 400
    assert Domain.objects.get(pk="default").enabled


def test_names_up_to_255_characters(admin_client, anon_client, roles):
    """Users up to 255 characters; projects and domains up to 64 (Keystone's resource names,
    tempest's test_create_projects_name_length_over_64 / test_create_domain_with_name_length_over_64)."""
    name, project_name = "n" * 255, "p" * 64
    for collection, key in (("/v3/projects", "project"), ("/v3/domains", "domain")):
        too_long = admin_client.post(collection, {key: {"name": "p" * 65}}, format="json")
        assert too_long.status_code == 400 and too_long.json()["error"]["code"] == 400
    assert admin_client.post("/v3/domains", {"domain": {"name": "d" * 64}}, format="json").status_code == 201
    project = admin_client.post("/v3/projects", {"project": {"name": project_name}}, format="json")
    assert project.status_code == 201
    user = admin_client.post(
        "/v3/users",
        {"user": {"name": name, "password": "secret-pass", "default_project_id": project.json()["project"]["id"]}},
        format="json",
    )
    assert user.status_code == 201 and user.json()["user"]["name"] == name
    uid, pid = user.json()["user"]["id"], project.json()["project"]["id"]
    assert admin_client.put(f"/v3/projects/{pid}/users/{uid}/roles/{roles['member'].id}").status_code == 204
    assert anon_client.post("/v3/auth/tokens", password_auth(name, project_name), format="json").status_code == 201
    too_long = admin_client.post("/v3/users", {"user": {"name": "n" * 256}}, format="json")
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == 400


def test_projects_and_users_do_not_change_domain(admin_client, member_account):
    user, project, _ = member_account
    admin_client.post("/v3/domains", {"domain": {"id": "ignored", "name": "other"}}, format="json")
    other = Domain.objects.get(name="other").id
    moved = admin_client.patch(f"/v3/projects/{project.id}", {"project": {"domain_id": other}}, format="json")
    assert moved.status_code == 400 and moved.json()["error"]["code"] == 400
    moved = admin_client.patch(f"/v3/users/{user.id}", {"user": {"domain_id": other}}, format="json")
    assert moved.status_code == 400
    same = admin_client.patch(f"/v3/projects/{project.id}", {"project": {"domain_id": "default",
                                                                        "parent_id": "default"}}, format="json")
    assert same.status_code == 200


def test_user_role_on_domain_is_listed_not_global(admin_client, member_account, member_client, roles):
    user = member_account[0]
    grant = f"/v3/domains/default/users/{user.id}/roles/{roles['admin'].id}"
    assert admin_client.head(grant).status_code == 404
    assert admin_client.put(grant).status_code == 204
    assert admin_client.head(grant).status_code == 204
    listed = admin_client.get(f"/v3/domains/default/users/{user.id}/roles").json()["roles"]
    assert [r["name"] for r in listed] == ["admin"]
    body = admin_client.get(f"/v3/role_assignments?scope.domain.id=default&user.id={user.id}&include_names").json()
    assert body["role_assignments"] == [
        {
            "role": {"id": roles["admin"].id, "name": "admin"},
            "user": {"id": user.id, "name": user.username, "domain": {"id": "default", "name": "Default"}},
            "scope": {"domain": {"id": "default", "name": "Default"}},
            "links": {"assignment": f"http://testserver/identity{grant}"},
        }
    ]
    # A domain role is not a cloud-wide one: the member's project token stays a member's.
    assert member_client.get("/v3/users").status_code == 403
    assert admin_client.get(f"/v3/role_assignments?scope.system&user.id={user.id}").json()["role_assignments"] == []
    assert admin_client.delete(grant).status_code == 204
    assert admin_client.delete(grant).status_code == 404
    assert admin_client.put(f"/v3/domains/nope/users/{user.id}/roles/{roles['admin'].id}").status_code == 404


def test_auth_domains_lists_the_domains_a_user_has_a_role_on(admin_client, member_account, member_client, roles):
    """GET /v3/auth/domains (tempest test_get_available_domain_scopes): direct and group domain
    roles; disabled domains are left out."""
    user = member_account[0]
    assert member_client.get("/v3/auth/domains").json()["domains"] == []
    ids = {}
    for name in ("direct", "via-group", "off"):
        ids[name] = admin_client.post("/v3/domains", {"domain": {"name": name}}, format="json").json()["domain"]["id"]
    assert admin_client.put(f"/v3/domains/{ids['direct']}/users/{user.id}/roles/{roles['reader'].id}"
                            ).status_code == 204
    gid = admin_client.post("/v3/groups", {"group": {"name": "g"}}, format="json").json()["group"]["id"]
    assert admin_client.put(f"/v3/groups/{gid}/users/{user.id}").status_code == 204
    assert admin_client.put(f"/v3/domains/{ids['via-group']}/groups/{gid}/roles/{roles['reader'].id}"
                            ).status_code == 204
    assert admin_client.put(f"/v3/domains/{ids['off']}/users/{user.id}/roles/{roles['reader'].id}").status_code == 204
    admin_client.patch(f"/v3/domains/{ids['off']}", {"domain": {"enabled": False}}, format="json")
    body = member_client.get("/v3/auth/domains").json()
    assert sorted(d["name"] for d in body["domains"]) == ["direct", "via-group"]
    assert body["domains"][0]["links"]["self"].endswith(f"/v3/domains/{body['domains'][0]['id']}")
