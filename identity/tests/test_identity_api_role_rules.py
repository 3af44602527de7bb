"""Identity v3: implied roles, domain-specific roles, OS-INHERIT grants, project hierarchy
(parent_id) and /v3/policies, as tempest's identity admin tests and a token user see them."""
import pytest

from cloudproj.testing.clients import TokenClient
from identity.services import accounts

pytestmark = pytest.mark.django_db


def login(anon_client, name, project):
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "domain": {"name": "Default"}, "password": "secret-pass"}}},
        "scope": {"project": {"id": project.id}}}
    return anon_client.post("/v3/auth/tokens", {"auth": auth}, format="json")


def new_role(client, name, **extra):
    response = client.post("/v3/roles", {"role": {"name": name, **extra}}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["role"]


def effective(client, project_id, user_id):
    url = f"/v3/role_assignments?effective&scope.project.id={project_id}&user.id={user_id}"
    return sorted(a["role"]["id"] for a in client.get(url).json()["role_assignments"])


def test_implied_role_rules_reach_tokens_and_effective_assignments(admin_client, anon_client, roles):
    prior, middle, last = (new_role(admin_client, name) for name in ("prior", "middle", "last"))
    rule = f"/v3/roles/{prior['id']}/implies/{middle['id']}"
    assert admin_client.head(rule).status_code == 404
    created = admin_client.put(rule)
    assert created.status_code == 201
    body = created.json()
    assert body["role_inference"]["prior_role"] | {"links": None} == {"id": prior["id"], "name": "prior", "links": None}
    assert body["role_inference"]["implies"]["id"] == middle["id"]
    assert body["links"]["self"] == f"http://testserver/identity{rule}"
    assert admin_client.head(rule).status_code == 204
    assert admin_client.get(rule).json()["role_inference"]["implies"]["name"] == "middle"
    assert admin_client.put(f"/v3/roles/{middle['id']}/implies/{last['id']}").status_code == 201
    # no cycles, no self-implication, never the admin role
    assert admin_client.put(f"/v3/roles/{last['id']}/implies/{prior['id']}").status_code == 403
    assert admin_client.put(f"/v3/roles/{prior['id']}/implies/{prior['id']}").status_code == 403
    assert admin_client.put(f"/v3/roles/{prior['id']}/implies/{roles['admin'].id}").status_code == 403
    assert admin_client.put(f"/v3/roles/{prior['id']}/implies/nope").status_code == 404

    direct = admin_client.get(f"/v3/roles/{prior['id']}/implies").json()["role_inference"]
    assert [r["id"] for r in direct["implies"]] == [middle["id"]]  # direct rules only
    everything = admin_client.get("/v3/role_inferences").json()["role_inferences"]
    assert {(r["prior_role"]["id"], tuple(i["id"] for i in r["implies"])) for r in everything} == {
        (prior["id"], (middle["id"],)), (middle["id"], (last["id"],))}

    project = accounts.create_project("implied")
    user = accounts.create_user("imp", "secret-pass")
    assert admin_client.put(f"/v3/projects/{project.id}/users/{user.id}/roles/{prior['id']}").status_code == 204
    assert effective(admin_client, project.id, user.id) == sorted([prior["id"], middle["id"], last["id"]])
    token = login(anon_client, "imp", project)
    assert sorted(r["name"] for r in token.json()["token"]["roles"]) == ["last", "middle", "prior"]

    assert admin_client.delete(rule).status_code == 204
    assert admin_client.delete(rule).status_code == 404
    assert admin_client.get(rule).status_code == 404
    assert effective(admin_client, project.id, user.id) == [prior["id"]]
    token_id = token.headers["X-Subject-Token"]
    shown = TokenClient(token_id).get("/v3/auth/tokens", HTTP_X_SUBJECT_TOKEN=token_id).json()["token"]
    assert [r["name"] for r in shown["roles"]] == ["prior"]


def test_implied_role_rules_are_admin_only(member_client, admin_client):
    a, b = new_role(admin_client, "ra"), new_role(admin_client, "rb")
    assert member_client.put(f"/v3/roles/{a['id']}/implies/{b['id']}").status_code == 403
    assert member_client.get("/v3/role_inferences").status_code == 403


def test_domain_roles_are_listed_per_domain_and_never_reach_tokens(admin_client, anon_client, roles):
    domain = admin_client.post("/v3/domains", {"domain": {"name": "dr"}}, format="json").json()["domain"]
    domain_role = new_role(admin_client, "dr-role", domain_id=domain["id"])
    assert domain_role["domain_id"] == domain["id"]
    assert admin_client.post("/v3/roles", {"role": {"name": "x", "domain_id": "nope"}}, format="json").status_code == 404
    listed = admin_client.get(f"/v3/roles?domain_id={domain['id']}").json()["roles"]
    assert listed == [domain_role]
    assert domain_role["id"] not in [r["id"] for r in admin_client.get("/v3/roles").json()["roles"]]
    changed = admin_client.patch(f"/v3/roles/{domain_role['id']}", {"role": {"domain_id": None}}, format="json")
    assert changed.status_code == 400

    # a domain role may imply a global one, not the other way round
    assert admin_client.put(f"/v3/roles/{domain_role['id']}/implies/{roles['reader'].id}").status_code == 201
    assert admin_client.put(f"/v3/roles/{roles['reader'].id}/implies/{domain_role['id']}").status_code == 403

    project = accounts.create_project("dr-project")
    user = accounts.create_user("dr-user", "secret-pass")
    grant = f"/v3/projects/{project.id}/users/{user.id}/roles/{domain_role['id']}"
    assert admin_client.put(grant).status_code == 204
    assert effective(admin_client, project.id, user.id) == [roles["reader"].id]
    token = login(anon_client, "dr-user", project)
    assert [r["name"] for r in token.json()["token"]["roles"]] == ["reader"]

    assert admin_client.delete(f"/v3/roles/{domain_role['id']}").status_code == 204
    assert admin_client.get(f"/v3/roles?domain_id={domain['id']}").json()["roles"] == []


def test_project_hierarchy(admin_client):
    root = admin_client.post("/v3/projects", {"project": {"name": "root"}}, format="json").json()["project"]
    assert root["parent_id"] == "default"
    response = admin_client.post("/v3/projects", {"project": {"name": "leaf", "parent_id": root["id"]}}, format="json")
    assert response.status_code == 201
    leaf = response.json()["project"]
    assert (leaf["parent_id"], leaf["domain_id"]) == (root["id"], "default")
    assert admin_client.get(f"/v3/projects/{leaf['id']}").json()["project"]["parent_id"] == root["id"]
    children = admin_client.get(f"/v3/projects?parent_id={root['id']}").json()["projects"]
    assert [p["id"] for p in children] == [leaf["id"]]
    top = [p["id"] for p in admin_client.get("/v3/projects?parent_id=default").json()["projects"]]
    assert root["id"] in top and leaf["id"] not in top

    assert admin_client.post("/v3/projects", {"project": {"name": "orphan", "parent_id": "nope"}},
                             format="json").status_code == 400
    other = admin_client.post("/v3/domains", {"domain": {"name": "elsewhere"}}, format="json").json()["domain"]
    wrong = admin_client.post("/v3/projects", {"project": {"name": "w", "parent_id": root["id"],
                                                            "domain_id": other["id"]}}, format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == 400
    moved = admin_client.patch(f"/v3/projects/{leaf['id']}", {"project": {"parent_id": "default"}}, format="json")
    assert moved.status_code == 403
    # depth: Keystone's max_project_tree_depth (5)
    parent = leaf["id"]
    statuses = []
    for level in range(5):
        response = admin_client.post("/v3/projects", {"project": {"name": f"l{level}", "parent_id": parent}},
                                     format="json")
        statuses.append(response.status_code)
        if response.status_code == 201:
            parent = response.json()["project"]["id"]
    assert statuses == [201, 201, 201, 403, 403]
    # not a leaf: refused; leaves first
    refused = admin_client.delete(f"/v3/projects/{root['id']}")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == 403
    assert admin_client.delete(f"/v3/projects/{parent}").status_code == 204


def test_os_inherit_grants_reach_projects_below(admin_client, anon_client):
    domain = admin_client.post("/v3/domains", {"domain": {"name": "inh"}}, format="json").json()["domain"]
    parent = accounts.create_project("inh-parent", domain_id=domain["id"])
    leaf = accounts.create_project("inh-leaf", domain_id=domain["id"], parent=parent)
    user = accounts.create_user("inh-user", "secret-pass")
    group = admin_client.post("/v3/groups", {"group": {"name": "inh-g"}}, format="json").json()["group"]
    role = new_role(admin_client, "inherited-role")

    on_domain = f"/v3/OS-INHERIT/domains/{domain['id']}/users/{user.id}/roles"
    assert admin_client.head(f"{on_domain}/{role['id']}/inherited_to_projects").status_code == 404
    assert admin_client.put(f"{on_domain}/{role['id']}/inherited_to_projects").status_code == 204
    assert admin_client.head(f"{on_domain}/{role['id']}/inherited_to_projects").status_code == 204
    assert [r["id"] for r in admin_client.get(f"{on_domain}/inherited_to_projects").json()["roles"]] == [role["id"]]
    assert effective(admin_client, parent.id, user.id) == [role["id"]]
    assert effective(admin_client, leaf.id, user.id) == [role["id"]]
    listed = admin_client.get(f"/v3/role_assignments?user.id={user.id}").json()["role_assignments"]
    assert listed == [{"role": {"id": role["id"]}, "user": {"id": user.id},
                       "scope": {"domain": {"id": domain["id"]}, "OS-INHERIT:inherited_to": "projects"},
                       "links": {"assignment": f"http://testserver/identity{on_domain}/{role['id']}"
                                               "/inherited_to_projects"}}]
    token = login(anon_client, "inh-user", leaf)
    assert token.status_code == 201 and [r["name"] for r in token.json()["token"]["roles"]] == ["inherited-role"]
    assert admin_client.delete(f"{on_domain}/{role['id']}/inherited_to_projects").status_code == 204
    assert admin_client.delete(f"{on_domain}/{role['id']}/inherited_to_projects").status_code == 404
    assert effective(admin_client, leaf.id, user.id) == []
    assert login(anon_client, "inh-user", leaf).status_code == 401

    # a group's grant on a project: the projects below it, not the project itself
    assert admin_client.put(f"/v3/groups/{group['id']}/users/{user.id}").status_code == 204
    on_project = f"/v3/OS-INHERIT/projects/{parent.id}/groups/{group['id']}/roles/{role['id']}/inherited_to_projects"
    assert admin_client.put(on_project).status_code == 204
    assert admin_client.head(on_project).status_code == 204
    assert effective(admin_client, leaf.id, user.id) == [role["id"]]
    assert effective(admin_client, parent.id, user.id) == []
    assert login(anon_client, "inh-user", parent).status_code == 401
    assert login(anon_client, "inh-user", leaf).status_code == 201
    assert admin_client.delete(on_project).status_code == 204
    assert admin_client.head(on_project).status_code == 404
    assert admin_client.put(f"/v3/OS-INHERIT/projects/nope/users/{user.id}/roles/{role['id']}"
                            "/inherited_to_projects").status_code == 404


def test_inherit_grants_are_admin_only(member_client, member_account, roles):
    user, project, _token = member_account
    url = f"/v3/OS-INHERIT/projects/{project.id}/users/{user.id}/roles/{roles['admin'].id}/inherited_to_projects"
    assert member_client.put(url).status_code == 403


def test_policies_crud(admin_client, member_client):
    response = admin_client.post("/v3/policies", {"policy": {"blob": '{"a": "b"}', "type": "application/json"}},
                                 format="json")
    assert response.status_code == 201
    policy = response.json()["policy"]
    assert policy | {"id": None} == {"id": None, "blob": '{"a": "b"}', "type": "application/json",
                                     "links": {"self": f"http://testserver/identity/v3/policies/{policy['id']}"}}
    assert [p["id"] for p in admin_client.get("/v3/policies").json()["policies"]] == [policy["id"]]
    updated = admin_client.patch(f"/v3/policies/{policy['id']}", {"policy": {"type": "text/plain"}}, format="json")
    assert updated.json()["policy"]["type"] == "text/plain"
    assert admin_client.get(f"/v3/policies/{policy['id']}").json()["policy"]["blob"] == '{"a": "b"}'
    assert admin_client.post("/v3/policies", {"policy": {"type": "x"}}, format="json").status_code == 400
    assert admin_client.post("/v3/policies", {"policy": {"type": 1, "blob": "b"}}, format="json").status_code == 400
    assert member_client.get("/v3/policies").status_code == 403
    assert admin_client.delete(f"/v3/policies/{policy['id']}").status_code == 204
    assert admin_client.get(f"/v3/policies/{policy['id']}").json()["error"]["code"] == 404


def test_endpoint_groups_crud(admin_client, member_client):
    base = "/v3/OS-EP-FILTER/endpoint_groups"
    ref = {"name": "computes", "description": "d", "filters": {"interface": "public", "service_id": "abc"}}
    response = admin_client.post(base, {"endpoint_group": ref}, format="json")
    assert response.status_code == 201
    group = response.json()["endpoint_group"]
    assert group == {**ref, "id": group["id"],
                     "links": {"self": f"http://testserver/identity/v3/OS-EP-FILTER/endpoint_groups/{group['id']}"}}
    assert admin_client.get(base).json()["endpoint_groups"] == [group]
    assert admin_client.head(f"{base}/{group['id']}").status_code == 200
    changed = admin_client.patch(f"{base}/{group['id']}", {"endpoint_group": {"filters": {"region_id": "RegionOne"}}},
                                 format="json")
    assert changed.json()["endpoint_group"]["filters"] == {"region_id": "RegionOne"}
    assert admin_client.get(f"{base}/{group['id']}").json()["endpoint_group"]["filters"] == {"region_id": "RegionOne"}
    for bad in ({"name": "x"}, {"name": "x", "filters": {"colour": "red"}}, {"name": "x", "filters": {"interface": "y"}},
                {"name": "x", "filters": {"service_id": 3}}):
        answer = admin_client.post(base, {"endpoint_group": bad}, format="json")
        assert answer.status_code == 400 and answer.json()["error"]["code"] == 400
    assert member_client.get(base).status_code == 403
    assert admin_client.delete(f"{base}/{group['id']}").status_code == 204
    assert admin_client.head(f"{base}/{group['id']}").status_code == 404
