"""Tenant isolation across the APIs: a member of project A gets 404 for project B's
resources and 403 for admin calls; no token is a 401. One table per rule, so a new
endpoint is one line here."""
from types import SimpleNamespace

import pytest

from compute.services import flavors as flavor_services
from compute.services import instances

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_account, admin_account):
    user_a, project_a, token_a = make_account("project-a", "member", username="alice")
    user_b, project_b, token_b = make_account("project-b", "member", username="bob")
    private = flavor_services.create_flavor(name="b-only", memory_mb=256, vcpus=1, root_gb=1, is_public=False)
    flavor_services.add_access(private, project_b.id)
    ctx_b = SimpleNamespace(user=user_b, project=project_b, user_id=user_b.id, project_id=project_b.id,
                            request_id="req-b", is_admin=False)
    image = {"id": "8a3c2d43-6f2e-4b8e-9f43-5a4ad0b8b0c1", "status": "active", "properties": {}}
    (server_b,) = instances.create_instances(ctx_b, "b-server", private, image)
    return {"a": project_a, "b": project_b, "user_b": user_b, "flavor_b": private, "token_a": token_a,
            "server_b": server_b}


ADMIN_CALLS = [
    ("get", "/compute/v2.1/os-services", None),
    ("put", "/compute/v2.1/os-services/disable", {"host": "h", "binary": "nova-compute"}),
    ("get", "/compute/v2.1/os-hypervisors", None),
    ("get", "/compute/v2.1/os-hypervisors/detail", None),
    ("get", "/compute/v2.1/os-hypervisors/statistics", None),
    ("get", "/compute/v2.1/os-availability-zone/detail", None),
    ("post", "/compute/v2.1/flavors", {"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0}}),
    ("delete", "/compute/v2.1/flavors/1", None),
    ("post", "/compute/v2.1/flavors/1/os-extra_specs", {"extra_specs": {"k": "v"}}),
    ("get", "/compute/v2.1/flavors/1/os-flavor-access", None),
    ("put", "/compute/v2.1/os-quota-sets/{a}", {"quota_set": {"instances": 99}}),
    ("delete", "/compute/v2.1/os-quota-sets/{a}", None),
    ("get", "/compute/v2.1/limits?tenant_id={b}", None),
    ("put", "/volume/v3/{a}/os-quota-sets/{a}", {"quota_set": {"volumes": 99}}),
    ("get", "/identity/v3/projects", None),
    ("post", "/identity/v3/projects", {"project": {"name": "mine"}}),
    ("delete", "/identity/v3/projects/{a}", None),
    ("get", "/identity/v3/users", None),
    ("post", "/identity/v3/users", {"user": {"name": "eve", "password": "x"}}),
    ("post", "/identity/v3/roles", {"role": {"name": "boss"}}),
    ("get", "/identity/v3/role_assignments", None),
    ("get", "/compute/v2.1/servers?all_tenants=1", None),
    ("get", "/compute/v2.1/servers/detail?all_tenants=1", None),
]

OTHER_PROJECT_RESOURCES = [
    "/identity/v3/projects/{b}",
    "/compute/v2.1/os-quota-sets/{b}",
    "/compute/v2.1/os-quota-sets/{b}/detail",
    "/compute/v2.1/flavors/{flavor_b}",
    "/compute/v2.1/flavors/{flavor_b}/os-extra_specs",
    "/volume/v3/{me}/os-quota-sets/{b}",
    "/compute/v2.1/servers/{server_b}",
    "/compute/v2.1/servers/{server_b}/metadata",
    "/compute/v2.1/servers/{server_b}/ips",
    "/compute/v2.1/servers/{server_b}/os-instance-actions",
    "/compute/v2.1/servers/{server_b}/os-instance-actions/req-b",
]


def fill(path: str, world, me=None) -> str:
    """`{me}` is the caller's own project (Block Storage URLs carry it); project A by default."""
    me = me or world["a"]
    return path.format(a=world["a"].id, b=world["b"].id, me=me.id, flavor_b=world["flavor_b"].flavorid,
                       server_b=world["server_b"].uuid)


def call(client, method, path, body):
    return getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)


@pytest.mark.parametrize("method,path,body", ADMIN_CALLS, ids=[f"{m} {p}" for m, p, _ in ADMIN_CALLS])
def test_member_gets_403_on_admin_calls(world, method, path, body):
    from cloudproj.testing.clients import TokenClient

    response = call(TokenClient(world["token_a"]), method, fill(path, world), body)
    assert response.status_code == 403, response.content
    envelope = response.json()
    assert envelope.get("forbidden", envelope.get("error", {}))["code"] == 403


@pytest.mark.parametrize("path", OTHER_PROJECT_RESOURCES)
def test_member_gets_404_for_another_projects_resources(world, path):
    from cloudproj.testing.clients import TokenClient

    response = TokenClient(world["token_a"]).get(fill(path, world))
    assert response.status_code == 404, response.content
    envelope = response.json()
    assert envelope.get("itemNotFound", envelope.get("error", {}))["code"] == 404


@pytest.mark.parametrize("path", OTHER_PROJECT_RESOURCES)
def test_the_owner_and_the_admin_can_see_them(world, path, admin_client, admin_account):
    from identity.services import tokens
    from cloudproj.testing.clients import TokenClient

    token_b, _ = tokens.issue_token(world["user_b"], world["b"])
    assert TokenClient(token_b).get(fill(path, world, me=world["b"])).status_code == 200
    assert admin_client.get(fill(path, world, me=admin_account[1])).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/compute/v2.1/flavors", "/compute/v2.1/os-services", "/compute/v2.1/limits", "/identity/v3/projects",
     "/volume/v3/x/limits"],
)
def test_no_token_or_a_bad_token_is_401(path, anon_client, world):
    from cloudproj.testing.clients import TokenClient

    for client in (anon_client, TokenClient("gAAAA-not-a-real-token")):
        response = client.get(path)
        assert response.status_code == 401, response.content


OTHER_PROJECT_WRITES = [
    ("delete", "/compute/v2.1/servers/{server_b}", None),
    ("put", "/compute/v2.1/servers/{server_b}", {"server": {"name": "mine"}}),
    ("post", "/compute/v2.1/servers/{server_b}/action", {"reboot": {"type": "HARD"}}),
    ("post", "/compute/v2.1/servers/{server_b}/action", {"os-getConsoleOutput": {"length": 5}}),
    ("post", "/compute/v2.1/servers/{server_b}/metadata", {"metadata": {"a": "b"}}),
    ("delete", "/compute/v2.1/servers/{server_b}/metadata/x", None),
]


@pytest.mark.parametrize("method,path,body", OTHER_PROJECT_WRITES, ids=[f"{m} {p}" for m, p, _ in OTHER_PROJECT_WRITES])
def test_member_cannot_touch_another_projects_server(world, method, path, body):
    from cloudproj.testing.clients import TokenClient

    response = call(TokenClient(world["token_a"]), method, fill(path, world), body)
    assert response.status_code == 404, response.content
    server = world["server_b"]
    server.refresh_from_db()
    assert (server.display_name, server.deleted_at, server.task_state, server.metadata) == ("b-server", None, "scheduling", {})
