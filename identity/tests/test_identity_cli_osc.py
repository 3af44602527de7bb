"""The real `openstack` CLI (keystoneauth + openstacksdk) against a live server."""
import json
import urllib.error
import urllib.request

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def http(url, method="GET", body=None, headers=None):
    """(status, headers, parsed body) of a plain HTTP call; errors are returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, error.headers, json.loads(raw) if raw else None


def test_admin_creates_project_user_and_grant_then_user_works(osc, admin_account, live_server):
    token = osc("token", "issue")
    assert token["id"] and token["expires"]
    assert token["project_id"] == admin_account[1].id and token["user_id"] == admin_account[0].id

    project = osc("project", "create", "p2", "--description", "second project")
    assert project["name"] == "p2" and project["enabled"] is True
    user = osc("user", "create", "--project", "p2", "--password", "x-pass", "u2")
    assert user["name"] == "u2" and user["default_project_id"] == project["id"]
    osc("role", "add", "--project", "p2", "--user", "u2", "member", raw=True)

    assignments = osc("role", "assignment", "list", "--project", "p2", "--names")
    assert [(a["Role"], a["User"], a["Project"]) for a in assignments] == [("member", "u2@Default", "p2@Default")]

    u2 = dict(user="u2", password="x-pass", project="p2")
    u2_token = osc("token", "issue", **u2)
    assert u2_token["project_id"] == project["id"] and u2_token["user_id"] == user["id"]
    assert [p["Name"] for p in osc("project", "list", **u2)] == ["p2"]

    assert {"admin", "p2"} <= {p["Name"] for p in osc("project", "list")}
    assert {"admin", "u2"} <= {u["Name"] for u in osc("user", "list")}
    assert osc("project", "show", "p2")["id"] == project["id"]

    created = osc("ec2", "credentials", "create", **u2)
    assert created["project_id"] == project["id"] and created["secret"]
    listed = osc("ec2", "credentials", "list", **u2)
    assert created["access"] in {c["Access"] for c in listed}

    # revoke u2's token: it is no longer valid
    auth = {"X-Auth-Token": token["id"], "X-Subject-Token": u2_token["id"]}
    assert http(f"{live_server.url}/v3/auth/tokens", headers=auth)[0] == 200
    osc("token", "revoke", u2_token["id"], raw=True)
    assert http(f"{live_server.url}/v3/auth/tokens", headers=auth)[0] == 404


def test_member_is_forbidden_to_create_projects(osc, make_account):
    make_account("demo", "member", username="dana")
    result = osc("project", "create", "nope", user="dana", project="demo", check=False)
    assert result.returncode != 0
    assert "403" in result.stderr or "Forbidden" in result.stderr


def test_wrong_password_fails_cleanly(osc, admin_account):
    result = osc("token", "issue", password="wrong", check=False)
    assert result.returncode != 0
    assert "401" in result.stderr or "authentication" in result.stderr.lower()


def test_seeds_v2_token_call_with_plain_http(admin_account, live_server):
    body = {"auth": {"passwordCredentials": {"username": "admin", "password": "secret-pass"}, "tenantName": "admin"}}
    status, _, access = http(f"{live_server.url}/v2.0/tokens", "POST", body)
    assert status == 200
    token_id = access["access"]["token"]["id"]
    assert access["access"]["token"]["tenant"]["name"] == "admin"
    assert any(s["type"] == "compute" for s in access["access"]["serviceCatalog"])
    status, _, projects = http(f"{live_server.url}/v3/auth/projects", headers={"X-Auth-Token": token_id})
    assert status == 200 and [p["name"] for p in projects["projects"]] == ["admin"]
    status, _, version = http(f"{live_server.url}/v2.0/")
    assert status == 200 and version["version"]["id"] == "v2.0"
