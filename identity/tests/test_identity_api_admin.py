"""Keystone-compatible admin API: projects, users, roles, grants, assignments, domains, EC2."""
import pytest

from identity.services import accounts
from cloudproj.testing.clients import TokenClient
from identity.models import Ec2Credential, RoleAssignment, User

pytestmark = pytest.mark.django_db


def login(client, name, password, project):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": name, "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"project": {"name": project, "domain": {"name": "Default"}}},
        }
    }
    return client.post("/v3/auth/tokens", body, format="json")


# --- projects ----------------------------------------------------------------------------


def test_project_create_show_list_update_delete(admin_client):
    response = admin_client.post("/v3/projects", {"project": {"name": "p2", "description": "second"}}, format="json")
    assert response.status_code == 201
    project = response.json()["project"]
    assert project | {"id": "x", "links": {}} == {
        "id": "x",
        "name": "p2",
        "description": "second",
        "enabled": True,
        "domain_id": "default",
        "parent_id": "default",
        "is_domain": False,
        "tags": [],
        "options": {},
        "links": {},
    }
    assert project["links"]["self"] == f"http://testserver/identity/v3/projects/{project['id']}"
    url = f"/v3/projects/{project['id']}"
    assert admin_client.get(url).json()["project"]["name"] == "p2"
    listing = admin_client.get("/v3/projects?name=p2").json()
    assert [p["id"] for p in listing["projects"]] == [project["id"]]
    assert listing["links"]["next"] is None and listing["links"]["previous"] is None
    assert listing["links"]["self"].startswith("http://testserver/v3/projects")
    response = admin_client.patch(url, {"project": {"enabled": False, "name": "p2b"}}, format="json")
    assert response.status_code == 200
    assert response.json()["project"]["enabled"] is False
    assert [p["name"] for p in admin_client.get("/v3/projects?enabled=false").json()["projects"]] == ["p2b"]
    assert admin_client.delete(url).status_code == 204
    assert admin_client.get(url).status_code == 404


def test_project_create_with_domain_and_extra_attributes(admin_client):
    body = {"project": {"name": "p3", "domain_id": "default", "parent_id": "default", "extra": "ignored"}}
    assert admin_client.post("/identity/v3/projects/", body, format="json").status_code == 201


@pytest.mark.parametrize(
    "ref",
    [
        {"name": 42},
        {"name": ""},
        {"name": "x" * 256},
        {"name": "ok", "enabled": "yes"},
        {"name": "ok", "description": 7},
        {"description": "no name"},
        {"name": "ok", "parent_id": "some-other-project"},
    ],
)
def test_bad_project_bodies_are_400(admin_client, ref):
    response = admin_client.post("/v3/projects", {"project": ref}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["title"] == "Bad Request"


def test_project_body_that_is_not_an_object_is_400(admin_client):
    assert admin_client.post("/v3/projects", {"project": "p"}, format="json").status_code == 400
    assert admin_client.post("/v3/projects", ["p"], format="json").status_code == 400


def test_duplicate_project_name_is_409(admin_client, admin_account):
    response = admin_client.post("/v3/projects", {"project": {"name": "admin"}}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["title"] == "Conflict"
    accounts.create_project("other")
    url = f"/v3/projects/{admin_account[1].id}"
    assert admin_client.patch(url, {"project": {"name": "other"}}, format="json").status_code == 409


def test_project_in_an_unknown_domain_is_404(admin_client):
    response = admin_client.post("/v3/projects", {"project": {"name": "p", "domain_id": "nope"}}, format="json")
    assert response.status_code == 404


def test_unknown_ids_are_404(admin_client):
    for url in ("/v3/projects/nope", "/v3/users/nope", "/v3/roles/nope", "/v3/domains/nope"):
        response = admin_client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == 404
    assert admin_client.patch("/v3/users/nope", {"user": {}}, format="json").status_code == 404
    assert admin_client.delete("/v3/projects/nope").status_code == 404


# --- security ----------------------------------------------------------------------------


def test_member_is_forbidden_admin_endpoints(member_client):
    for method, url, body in [
        ("get", "/v3/projects", None),
        ("post", "/v3/projects", {"project": {"name": "x"}}),
        ("get", "/v3/users", None),
        ("post", "/v3/users", {"user": {"name": "x"}}),
        ("post", "/v3/roles", {"role": {"name": "x"}}),
        ("get", "/v3/role_assignments", None),
    ]:
        response = getattr(member_client, method)(url, body, format="json")
        assert response.status_code == 403, url
        assert response.json()["error"]["title"] == "Forbidden"


def test_member_sees_own_project_but_another_project_is_404(member_client, member_account, make_account):
    _, other, _ = make_account("other", "member")
    assert member_client.get(f"/v3/projects/{member_account[1].id}").status_code == 200
    response = member_client.get(f"/v3/projects/{other.id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404


def test_missing_or_revoked_token_is_401(anon_client, admin_account):
    response = anon_client.get("/v3/projects")
    assert response.status_code == 401
    assert response.json()["error"]["title"] == "Unauthorized"
    assert response["WWW-Authenticate"].startswith("Keystone")
    from identity.services import tokens

    token = tokens.find_valid_token(admin_account[2])
    tokens.revoke_token(token)
    assert TokenClient(admin_account[2]).get("/v3/projects").status_code == 401


def test_member_lists_own_projects_via_users_projects(member_client, member_account, admin_client, make_account):
    user = member_account[0]
    make_account("other", "member")
    response = member_client.get(f"/v3/users/{user.id}/projects")
    assert [p["name"] for p in response.json()["projects"]] == ["demo"]
    other_user = User.objects.get(username="other-member")
    assert member_client.get(f"/v3/users/{other_user.id}/projects").status_code == 403
    assert admin_client.get(f"/v3/users/{other_user.id}/projects").status_code == 200


# --- users -------------------------------------------------------------------------------


def test_user_create_show_list_update_delete(admin_client, anon_client, admin_account):
    project = admin_account[1]
    body = {
        "user": {
            "name": "u2",
            "password": "pw-2",
            "default_project_id": project.id,
            "email": "u2@example.org",
            "enabled": True,
        }
    }
    response = admin_client.post("/v3/users", body, format="json")
    assert response.status_code == 201
    user = response.json()["user"]
    assert user["name"] == "u2" and user["domain_id"] == "default" and user["enabled"] is True
    assert user["default_project_id"] == project.id and user["email"] == "u2@example.org"
    assert user["password_expires_at"] is None and user["options"] == {}
    assert "password" not in user
    assert user["links"]["self"].endswith(f"/identity/v3/users/{user['id']}")
    url = f"/v3/users/{user['id']}"
    assert admin_client.get(url).json()["user"]["name"] == "u2"
    assert [u["id"] for u in admin_client.get("/v3/users?name=u2").json()["users"]] == [user["id"]]
    response = admin_client.patch(url, {"user": {"description": "hi", "password": "pw-3"}}, format="json")
    assert response.status_code == 200 and response.json()["user"]["description"] == "hi"
    accounts.assign_role(User.objects.get(pk=user["id"]), accounts.Role.objects.get(name="member"), project)
    assert login(anon_client, "u2", "pw-3", "admin").status_code == 201
    assert admin_client.delete(url).status_code == 204
    assert admin_client.get(url).status_code == 404


@pytest.mark.parametrize(
    "ref",
    [
        {"name": ["u"]},
        {"name": "u", "enabled": 1},
        {"name": "u", "password": 5},
        {"name": "u", "default_project_id": "no-such-project"},
        {"name": "u" * 256},
    ],
)
def test_bad_user_bodies_are_400(admin_client, ref):
    assert admin_client.post("/v3/users", {"user": ref}, format="json").status_code == 400


def test_duplicate_user_is_409(admin_client, admin_account):
    response = admin_client.post("/v3/users", {"user": {"name": "admin"}}, format="json")
    assert response.status_code == 409


def test_disabling_or_deleting_a_user_revokes_its_tokens(admin_client, make_account):
    user, _, token_id = make_account("demo", "member", username="victim")
    assert TokenClient(token_id).get("/v3/auth/projects").status_code == 200
    response = admin_client.patch(f"/v3/users/{user.id}", {"user": {"enabled": False}}, format="json")
    assert response.status_code == 200 and response.json()["user"]["enabled"] is False
    assert TokenClient(token_id).get("/v3/auth/projects").status_code == 401
    admin_client.patch(f"/v3/users/{user.id}", {"user": {"enabled": True}}, format="json")
    assert TokenClient(token_id).get("/v3/auth/projects").status_code == 401
    _, _, second = make_account("demo", "member", username="victim2")
    victim2 = User.objects.get(username="victim2")
    assert admin_client.delete(f"/v3/users/{victim2.id}").status_code == 204
    assert TokenClient(second).get("/v3/auth/projects").status_code == 401


def test_user_changes_own_password(member_client, member_account, anon_client):
    user = member_account[0]
    url = f"/v3/users/{user.id}/password"
    wrong = {"user": {"original_password": "nope", "password": "new-pass"}}
    assert member_client.post(url, wrong, format="json").status_code == 401
    right = {"user": {"original_password": "secret-pass", "password": "new-pass"}}
    assert member_client.post(url, right, format="json").status_code == 204
    assert login(anon_client, user.username, "secret-pass", "demo").status_code == 401
    assert login(anon_client, user.username, "new-pass", "demo").status_code == 201
    # the old token was revoked with the password change
    assert member_client.get("/v3/auth/projects").status_code == 401


def test_member_cannot_change_someone_elses_password(member_client, admin_account):
    url = f"/v3/users/{admin_account[0].id}/password"
    body = {"user": {"original_password": "secret-pass", "password": "x"}}
    assert member_client.post(url, body, format="json").status_code == 403


def test_member_reads_itself_but_not_other_users(member_client, member_account, admin_account):
    assert member_client.get(f"/v3/users/{member_account[0].id}").status_code == 200
    assert member_client.get(f"/v3/users/{admin_account[0].id}").status_code == 403


# --- roles, grants, assignments ------------------------------------------------------------


def test_role_crud_and_name_filter(admin_client, member_client):
    response = admin_client.post("/v3/roles", {"role": {"name": "auditor"}}, format="json")
    assert response.status_code == 201
    role = response.json()["role"]
    assert role["name"] == "auditor" and role["domain_id"] is None
    assert [r["id"] for r in member_client.get("/v3/roles?name=auditor").json()["roles"]] == [role["id"]]
    assert admin_client.post("/v3/roles", {"role": {"name": "auditor"}}, format="json").status_code == 409
    url = f"/v3/roles/{role['id']}"
    updated = admin_client.patch(url, {"role": {"description": "reads"}}, format="json").json()["role"]
    assert updated["description"] == "reads"
    assert member_client.delete(url).status_code == 403
    assert admin_client.delete(url).status_code == 204
    assert admin_client.get(url).status_code == 404


def test_grant_check_list_and_revoke(admin_client, admin_account, make_account, roles):
    user, project, _ = make_account("p2", "member", username="u2")
    reader = roles["reader"]
    url = f"/v3/projects/{project.id}/users/{user.id}/roles/{reader.id}"
    assert admin_client.head(url).status_code == 404
    assert admin_client.put(url).status_code == 204
    assert admin_client.put(url).status_code == 204  # idempotent
    assert admin_client.head(url).status_code == 204
    assert admin_client.get(url).status_code == 204
    listed = admin_client.get(f"/v3/projects/{project.id}/users/{user.id}/roles").json()["roles"]
    assert sorted(r["name"] for r in listed) == ["member", "reader"]
    assert admin_client.delete(url).status_code == 204
    assert admin_client.delete(url).status_code == 404
    assert admin_client.put(f"/v3/projects/{project.id}/users/{user.id}/roles/nope").status_code == 404


def test_role_assignments_with_filters_and_names(admin_client, admin_account, make_account, roles):
    user, project, _ = make_account("p2", "member", username="u2")
    accounts.assign_role(user, roles["itsec"], None)  # a global (seeds') role
    response = admin_client.get(f"/v3/role_assignments?scope.project.id={project.id}&include_names=True")
    assert response.status_code == 200
    (assignment,) = response.json()["role_assignments"]
    assert assignment["user"] == {"id": user.id, "name": "u2", "domain": {"id": "default", "name": "Default"}}
    assert assignment["role"] == {"id": roles["member"].id, "name": "member"}
    assert assignment["scope"]["project"]["name"] == "p2"
    grant_path = f"/projects/{project.id}/users/{user.id}/roles/{roles['member'].id}"
    assert assignment["links"]["assignment"].endswith(grant_path)
    by_user = admin_client.get(f"/v3/role_assignments?user.id={user.id}").json()["role_assignments"]
    assert {"system": {"all": True}} in [a["scope"] for a in by_user]
    assert all("name" not in a["user"] for a in by_user)
    by_role = admin_client.get(f"/v3/role_assignments?role.id={roles['admin'].id}").json()["role_assignments"]
    assert [a["user"]["id"] for a in by_role] == [admin_account[0].id]


# --- domains -----------------------------------------------------------------------------


def test_only_the_default_domain_exists(member_client):
    domains = member_client.get("/v3/domains").json()["domains"]
    assert [(d["id"], d["name"], d["enabled"]) for d in domains] == [("default", "Default", True)]
    assert member_client.get("/v3/domains?name=Default").json()["domains"][0]["id"] == "default"
    assert member_client.get("/v3/domains?name=Other").json()["domains"] == []
    assert member_client.get("/v3/domains/default").json()["domain"]["name"] == "Default"


# --- EC2 credentials -----------------------------------------------------------------------


def test_ec2_credentials_create_list_show_delete(member_client, member_account):
    user, project, _ = member_account
    base = f"/v3/users/{user.id}/credentials/OS-EC2"
    listed = member_client.get(base).json()["credentials"]
    assert len(listed) == 1  # made with the user (seeds)
    response = member_client.post(base, {"tenant_id": project.id}, format="json")
    assert response.status_code == 201
    credential = response.json()["credential"]
    assert credential["user_id"] == user.id and credential["tenant_id"] == project.id
    assert credential["trust_id"] is None and credential["secret"]
    assert credential["links"]["self"].endswith(f"{base}/{credential['access']}")
    assert len(member_client.get(base).json()["credentials"]) == 2
    assert member_client.get(f"{base}/{credential['access']}").json()["credential"]["secret"] == credential["secret"]
    assert member_client.delete(f"{base}/{credential['access']}").status_code == 204
    assert member_client.get(f"{base}/{credential['access']}").status_code == 404
    assert not Ec2Credential.objects.filter(access=credential["access"]).exists()


def test_ec2_credentials_are_private_and_need_a_project_role(
    member_client, member_account, admin_account, make_account
):
    user = member_account[0]
    _, other_project, _ = make_account("other", "member")
    admin_base = f"/v3/users/{admin_account[0].id}/credentials/OS-EC2"
    assert member_client.get(admin_base).status_code == 403
    base = f"/v3/users/{user.id}/credentials/OS-EC2"
    assert member_client.post(base, {"tenant_id": other_project.id}, format="json").status_code == 403
    assert member_client.post(base, {"tenant_id": "nope"}, format="json").status_code == 404
    assert member_client.post(base, {}, format="json").status_code == 400
    assert RoleAssignment.objects.filter(user=user).count() == 1


def test_deleting_a_project_keeps_a_tombstone_for_what_it_owns(admin_client, make_account):
    """Keystone deletes a project whatever Nova still holds for it: the identity rows go, the
    quota usage stays with a hidden tombstone, and the name may be taken again."""
    from identity.models import Project, QuotaUsage, Token
    from identity.services import quotas

    user, project, _ = make_account("doomed", "member")
    accounts.create_ec2_credential(user, project)
    quotas.commit(quotas.reserve(project.id, {"instances": 2, "cores": 2}))
    assert admin_client.delete(f"/v3/projects/{project.id}").status_code == 204

    assert admin_client.get(f"/v3/projects/{project.id}").status_code == 404
    names = [p["name"] for p in admin_client.get("/v3/projects").json()["projects"]]
    assert project.name not in names
    assert admin_client.delete(f"/v3/projects/{project.id}").status_code == 404
    tombstone = Project.all_objects.get(pk=project.id)
    assert tombstone.is_deleted and not tombstone.enabled
    assert not RoleAssignment.objects.filter(project_id=project.id).exists()
    assert not Ec2Credential.objects.filter(project_id=project.id).exists()
    assert not Token.objects.filter(project_id=project.id, revoked=False).exists()
    assert User.objects.get(pk=user.pk).default_project_id is None
    assert dict(QuotaUsage.objects.filter(project_id=project.id).values_list("resource", "in_use")) == {
        "instances": 2, "cores": 2}
    # what it owned gives its usage back later, once
    quotas.commit(quotas.reserve(project.id, {"instances": -2, "cores": -2}))
    assert set(QuotaUsage.objects.filter(project_id=project.id).values_list("in_use", flat=True)) == {0}

    again = admin_client.post("/v3/projects", {"project": {"name": project.name}}, format="json")
    assert again.status_code == 201 and again.json()["project"]["id"] != project.id
    duplicate = admin_client.post("/v3/projects", {"project": {"name": project.name}}, format="json")
    assert duplicate.status_code == 409


GARBAGE_BODIES = [None, [], "text", 5, {"project": None}, {"user": []}, {"role": {"name": None}}, {"tenant_id": 7}]


@pytest.mark.parametrize("body", GARBAGE_BODIES)
def test_garbage_bodies_never_cause_a_server_error(admin_client, admin_account, body):
    user_id, project_id = admin_account[0].id, admin_account[1].id
    for method, url in [
        ("post", "/v3/projects"),
        ("patch", f"/v3/projects/{project_id}"),
        ("post", "/v3/users"),
        ("patch", f"/v3/users/{user_id}"),
        ("post", f"/v3/users/{user_id}/password"),
        ("post", "/v3/roles"),
        ("post", f"/v3/users/{user_id}/credentials/OS-EC2"),
        ("post", "/v3/auth/tokens"),
        ("post", "/v2.0/tokens"),
    ]:
        response = getattr(admin_client, method)(url, body, format="json")
        assert 400 <= response.status_code < 500, (method, url, response.status_code)
        assert response.json()["error"]["code"] == response.status_code


def test_user_extra_attributes_are_kept(admin_client):
    """Keystone keeps attributes its schema does not name (tempest creates users with `project_id`)."""
    project = admin_client.post("/v3/projects", {"project": {"name": "xp"}}, format="json").json()["project"]
    created = admin_client.post("/v3/users", {"user": {"name": "xu", "project_id": project["id"], "colour": "red"}},
                                format="json")
    assert created.status_code == 201
    user = created.json()["user"]
    assert (user["project_id"], user["colour"], user["name"]) == (project["id"], "red", "xu")
    shown = admin_client.get(f"/v3/users/{user['id']}").json()["user"]
    assert (shown["project_id"], shown["colour"]) == (project["id"], "red")
    patched = admin_client.patch(f"/v3/users/{user['id']}", {"user": {"colour": "blue"}}, format="json").json()["user"]
    assert (patched["project_id"], patched["colour"]) == (project["id"], "blue")
    # an extra never shadows what the user is
    renamed = admin_client.patch(f"/v3/users/{user['id']}", {"user": {"name": "xu2", "id": "forged"}}, format="json")
    assert renamed.json()["user"]["id"] == user["id"]
    too_many = {f"k{i}": i for i in range(40)}
    answer = admin_client.post("/v3/users", {"user": {"name": "xu3", **too_many}}, format="json")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 400
