"""System role assignments (/v3/system/{users,groups}/{id}/roles[/{r}]), system-scoped tokens
(`scope: {"system": {"all": true}}`) and what they may do, Keystone's default roles, bootstrap."""
import pytest

from cloudproj.testing.clients import TokenClient
from identity.models import RoleAssignment, User
from identity.services import accounts
from identity.services.bootstrap import seed_defaults

pytestmark = pytest.mark.django_db

SYSTEM = {"system": {"all": True}}


def system_auth(name, password="secret-pass", scope=None):
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": name, "domain": {"name": "Default"}, "password": password}},
            },
            "scope": SYSTEM if scope is None else scope,
        }
    }


def assert_error(response, code, words):
    assert response.status_code == code, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"], error


def test_user_system_grant_and_system_token_is_cloud_admin(admin_client, member_account, roles, anon_client):
    user = member_account[0]
    admin_role = roles["admin"]
    url = f"/v3/system/users/{user.id}/roles/{admin_role.id}"
    # Without the grant there is no system token for this user.
    assert_error(anon_client.post("/v3/auth/tokens", system_auth(user.username), format="json"), 401, "system")
    assert admin_client.head(url).status_code == 404
    assert admin_client.put(url).status_code == 204
    assert admin_client.put(url).status_code == 204  # idempotent, as Keystone
    assert admin_client.head(url).status_code == 204 and admin_client.get(url).status_code == 204
    listed = admin_client.get(f"/v3/system/users/{user.id}/roles").json()["roles"]
    assert [r["name"] for r in listed] == ["admin"]

    response = anon_client.post("/v3/auth/tokens", system_auth(user.username), format="json")
    assert response.status_code == 201, response.content[:300]
    token = response.json()["token"]
    assert token["system"] == {"all": True}
    assert "project" not in token and "domain" not in token
    assert [r["name"] for r in token["roles"]] == ["admin"]
    assert "identity" in {entry["type"] for entry in token["catalog"]}
    # Endpoints with a project template cannot be filled in without a project: left out, as Keystone.
    assert all("{project_id}" not in e["url"] for entry in token["catalog"] for e in entry["endpoints"])

    system_client = TokenClient(response["X-Subject-Token"])
    validated = system_client.get("/v3/auth/tokens", HTTP_X_SUBJECT_TOKEN=response["X-Subject-Token"])
    assert validated.status_code == 200 and validated.json()["token"]["system"] == {"all": True}
    assert system_client.get("/v3/auth/catalog").status_code == 200
    # Cloud admin: creates a project and lists every user (a member token may not).
    created = system_client.post("/v3/projects", {"project": {"name": "from-system"}}, format="json")
    assert created.status_code == 201, created.content[:300]
    assert system_client.get("/v3/users").status_code == 200

    assert admin_client.delete(url).status_code == 204
    assert_error(admin_client.delete(url), 404, "Could not find role assignment")
    assert admin_client.get(f"/v3/system/users/{user.id}/roles").json()["roles"] == []
    # The grant is gone: the existing system token keeps no admin power, a new one is refused.
    assert system_client.get("/v3/users").status_code == 403
    assert_error(anon_client.post("/v3/auth/tokens", system_auth(user.username), format="json"), 401, "system")


def test_group_system_grant_counts_in_system_token(admin_client, member_account, roles, anon_client):
    user = member_account[0]
    gid = admin_client.post("/v3/groups", {"group": {"name": "auditors"}}, format="json").json()["group"]["id"]
    assert admin_client.put(f"/v3/groups/{gid}/users/{user.id}").status_code == 204
    url = f"/v3/system/groups/{gid}/roles/{roles['reader'].id}"
    assert admin_client.head(url).status_code == 404
    assert admin_client.put(url).status_code == 204
    assert admin_client.head(url).status_code == 204
    assert [r["name"] for r in admin_client.get(f"/v3/system/groups/{gid}/roles").json()["roles"]] == ["reader"]
    # Not a domain grant of the group.
    assert admin_client.get(f"/v3/domains/default/groups/{gid}/roles").json()["roles"] == []

    response = anon_client.post("/v3/auth/tokens", system_auth(user.username), format="json")
    assert response.status_code == 201
    assert [r["name"] for r in response.json()["token"]["roles"]] == ["reader"]
    reader = TokenClient(response["X-Subject-Token"])
    assert reader.post("/v3/projects", {"project": {"name": "nope"}}, format="json").status_code == 403

    assignments = admin_client.get("/v3/role_assignments?scope.system=all&include_names").json()["role_assignments"]
    group_rows = [a for a in assignments if "group" in a]
    assert group_rows == [
        {
            "role": {"id": roles["reader"].id, "name": "reader"},
            "group": {"id": gid, "name": "auditors", "domain": {"id": "default", "name": "Default"}},
            "scope": {"system": {"all": True}},
            "links": {"assignment": f"http://testserver/identity/v3/system/groups/{gid}/roles/{roles['reader'].id}"},
        }
    ]
    assert admin_client.delete(url).status_code == 204
    assert_error(admin_client.delete(url), 404, f"group: {gid}")


def test_role_assignments_system_scope_lists_user_grants(admin_client, member_account, roles):
    user = member_account[0]
    assert admin_client.put(f"/v3/system/users/{user.id}/roles/{roles['member'].id}").status_code == 204
    rows = admin_client.get(f"/v3/role_assignments?scope.system=all&user.id={user.id}").json()["role_assignments"]
    assert rows == [
        {
            "role": {"id": roles["member"].id},
            "user": {"id": user.id},
            "scope": {"system": {"all": True}},
            "links": {
                "assignment": f"http://testserver/identity/v3/system/users/{user.id}/roles/{roles['member'].id}"
            },
        }
    ]
    # Project grants are not system grants.
    assert all("system" in r["scope"] for r in admin_client.get("/v3/role_assignments?scope.system=all").json()[
        "role_assignments"
    ])


def test_system_grant_errors(admin_client, member_client, member_account, roles, anon_client):
    user = member_account[0]
    role_id = roles["admin"].id
    assert_error(admin_client.put(f"/v3/system/users/nobody/roles/{role_id}"), 404, "nobody")
    assert_error(admin_client.put(f"/v3/system/users/{user.id}/roles/norole"), 404, "norole")
    assert_error(admin_client.put(f"/v3/system/groups/nogroup/roles/{role_id}"), 404, "nogroup")
    assert_error(admin_client.get("/v3/system/groups/nogroup/roles"), 404, "nogroup")
    # A member may not grant itself the system admin role.
    assert member_client.put(f"/v3/system/users/{user.id}/roles/{role_id}").status_code == 403
    assert not RoleAssignment.objects.filter(user=user, project__isnull=True).exists()
    # Malformed system scopes are a 400; system with project too.
    admin_name = User.objects.get(username="admin").username
    for scope in ({"system": {"all": False}}, {"system": "all"}, {"system": {"all": True}, "project": {"id": "x"}}):
        response = anon_client.post("/v3/auth/tokens", system_auth(admin_name, scope=scope), format="json")
        assert_error(response, 400, "scope")


def test_keystone_default_roles_exist(admin_client):
    names = {r["name"] for r in admin_client.get("/v3/roles").json()["roles"]}
    assert {"admin", "member", "reader", "manager", "service"} <= names
    found = admin_client.get("/v3/roles?name=service").json()["roles"]
    assert [r["name"] for r in found] == ["service"]


def test_bootstrap_gives_admin_the_system_admin_role(tmp_path, anon_client):
    result = seed_defaults("boot-pass-123", tmp_path)
    held = [r.name for r in accounts.roles_on_project(result.admin, None)]
    assert "admin" in held
    response = anon_client.post("/v3/auth/tokens", system_auth("admin", "boot-pass-123"), format="json")
    assert response.status_code == 201, response.content[:300]
    assert response.json()["token"]["system"] == {"all": True}
    seed_defaults("boot-pass-123", tmp_path)  # again: nothing duplicated
    assert RoleAssignment.objects.filter(user=result.admin, project__isnull=True, role__name="admin").count() == 1
