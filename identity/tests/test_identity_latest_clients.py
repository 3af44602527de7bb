"""Today's python-openstackclient and openstacksdk drive groups, the catalog, domains and
application credentials (latest releases, in .cache/latest-clients)."""
import json
import subprocess

import pytest

from cloudproj.testing.latest_clients import ensure_latest_clients
from identity.services import accounts

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_osc_groups_catalog_domains(latest_osc, admin_account, roles):
    accounts.create_project("team")
    accounts.create_user("alice", "alice-pass")
    group = latest_osc("group", "create", "ops", "--description", "operators")
    assert group["name"] == "ops" and group["domain_id"] == "default"
    latest_osc("group", "add", "user", "ops", "alice", raw=True)
    assert [g["Name"] for g in latest_osc("group", "list", "--user", "alice")] == ["ops"]
    assert [u["Name"] for u in latest_osc("user", "list", "--group", "ops")] == ["alice"]
    latest_osc("role", "add", "--group", "ops", "--project", "team", "member", raw=True)
    assignments = latest_osc("role", "assignment", "list", "--project", "team", "--names")
    assert [(a["Role"], a["Group"]) for a in assignments] == [("member", "ops@Default")]
    latest_osc("role", "add", "--user", "alice", "--domain", "default", "reader", raw=True)
    on_domain = latest_osc("role", "assignment", "list", "--domain", "default", "--names")
    assert [(a["Role"], a["User"], a["Domain"]) for a in on_domain] == [("reader", "alice@Default", "Default")]
    # alice gets into the project through the group.
    token = latest_osc("token", "issue", user="alice", password="alice-pass", project="team")
    assert token["project_id"]

    services = {s["Type"]: s["Name"] for s in latest_osc("service", "list")}
    assert services["compute"] == "nova" and services["identity"] == "keystone"
    endpoints = latest_osc("endpoint", "list", "--service", "compute", "--interface", "public")
    assert len(endpoints) == 1 and endpoints[0]["URL"].endswith("/compute/v2.1")
    assert endpoints[0]["Region"] == "RegionOne" and endpoints[0]["Service Name"] == "nova"
    region = latest_osc("region", "create", "RegionTwo", "--description", "second")
    assert region["region"] == "RegionTwo"
    assert {r["Region"] for r in latest_osc("region", "list")} == {"RegionOne", "RegionTwo"}
    latest_osc("service", "create", "--name", "designate", "dns")
    latest_osc("endpoint", "create", "--region", "RegionTwo", "dns", "public", "https://dns.example.com/", raw=True)
    catalog = latest_osc("catalog", "list")
    assert "dns" in {c["Type"] for c in catalog}

    domain = latest_osc("domain", "create", "acme")
    assert domain["enabled"] is True
    failed = latest_osc("domain", "delete", "acme", check=False)
    assert failed.returncode != 0
    latest_osc("domain", "set", "--disable", "acme", raw=True)
    assert latest_osc("domain", "show", "acme")["enabled"] is False
    latest_osc("domain", "delete", "acme", raw=True)
    assert "acme" not in {d["Name"] for d in latest_osc("domain", "list")}


def test_osc_application_credentials(latest_osc, admin_account, live_server):
    created = latest_osc("application", "credential", "create", "--role", "admin", "ci")
    assert created["Name"] == "ci" and created["Secret"]
    assert [c["Name"] for c in latest_osc("application", "credential", "list")] == ["ci"]

    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "OS_AUTH_URL": f"{live_server.url}/identity",
        "OS_AUTH_TYPE": "v3applicationcredential",
        "OS_APPLICATION_CREDENTIAL_ID": created["ID"],
        "OS_APPLICATION_CREDENTIAL_SECRET": created["Secret"],
        "OS_IDENTITY_API_VERSION": "3",
        "OS_INTERFACE": "public",
        "OS_REGION_NAME": "RegionOne",
    }
    openstack = str(ensure_latest_clients() / "openstack")
    proc = subprocess.run([openstack, "token", "issue", "-f", "json"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["project_id"] == admin_account[1].id
    proc = subprocess.run([openstack, "flavor", "list", "-f", "json"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr

    latest_osc("application", "credential", "delete", "ci", raw=True)
    assert latest_osc("application", "credential", "list") == []
    proc = subprocess.run([openstack, "token", "issue", "-f", "json"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0


def test_sdk_groups_endpoints_application_credentials(latest_sdk, admin_account):
    result = latest_sdk("""
        group = conn.identity.create_group(name="sdk-group", description="d")
        user = conn.identity.get_user(conn.current_user_id)
        conn.identity.add_user_to_group(user, group)
        in_group = conn.identity.check_user_in_group(user, group)
        groups = [g.name for g in conn.identity.groups()]
        endpoints = [(e.interface, e.url) for e in conn.identity.endpoints(interface="public")]
        services = {s.type: s.id for s in conn.identity.services()}
        regions = [r.id for r in conn.identity.regions()]
        cred = conn.identity.create_application_credential(user=user.id, name="sdk-cred", description="x")
        creds = [c.name for c in conn.identity.application_credentials(user=user.id)]
        conn.identity.delete_application_credential(user=user.id, application_credential=cred.id)
        after = [c.name for c in conn.identity.application_credentials(user=user.id)]
        print(json.dumps({"groups": groups, "in_group": in_group, "endpoints": endpoints, "services": services,
                          "regions": regions, "secret": bool(cred.secret), "creds": creds, "after": after}))
    """)
    assert result["groups"] == ["sdk-group"] and result["in_group"] is True
    assert {interface for interface, _ in result["endpoints"]} == {"public"}
    assert any(url.endswith("/compute/v2.1") for _, url in result["endpoints"])
    assert "compute" in result["services"] and result["regions"] == ["RegionOne"]
    assert result["secret"] and result["creds"] == ["sdk-cred"] and result["after"] == []


def test_osc_system_scope_credentials_and_project_tags(latest_osc, admin_account, roles):
    accounts.create_user("carol", "carol-pass")
    latest_osc("role", "add", "--user", "carol", "--system", "all", "admin", raw=True)
    on_system = latest_osc("role", "assignment", "list", "--system", "all", "--user", "carol", "--names")
    assert [(a["Role"], a["User"], a["System"]) for a in on_system] == [("admin", "carol@Default", "all")]
    system = ("--os-system-scope", "all", "--os-project-name", "", "--os-project-domain-name", "")
    token = latest_osc(*system, "token", "issue", user="carol", password="carol-pass", project="")
    assert token["user_id"] and not token.get("project_id")
    # The system admin is a cloud admin: it creates a project and tags it.
    latest_osc(*system, "project", "create", "tagged", "--tag", "red", user="carol", password="carol-pass", project="")
    latest_osc("project", "set", "--tag", "big", "tagged", raw=True)
    assert [p["Name"] for p in latest_osc("project", "list", "--tags", "red,big")] == ["tagged"]
    assert latest_osc("project", "list", "--not-tags-any", "red") != []
    assert sorted(latest_osc("project", "show", "tagged")["tags"]) == ["big", "red"]

    cred = latest_osc("credential", "create", "carol", '{"access": "AK1", "secret": "S1"}', "--type", "ec2",
                      "--project", "tagged")
    assert cred["type"] == "ec2" and json.loads(cred["blob"])["access"] == "AK1"
    assert [c["ID"] for c in latest_osc("credential", "list", "--user", "carol")] == [cred["id"]]
    assert {e["Access"] for e in latest_osc("ec2", "credentials", "list", "--user", "carol")} == {"AK1"}
    latest_osc("credential", "delete", cred["id"], raw=True)
    assert latest_osc("credential", "list", "--user", "carol") == []
