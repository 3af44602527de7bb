"""Keystone's default domain configuration (read-only: every domain uses the SQL driver)."""
import pytest

pytestmark = pytest.mark.django_db


def test_default_config_group_and_option(admin_client):
    config = admin_client.get("/v3/domains/config/default").json()["config"]
    assert config["identity"] == {"driver": "sql", "list_limit": None}
    assert config["ldap"]["url"] == "ldap://localhost"
    group = admin_client.get("/v3/domains/config/identity/default")
    assert group.status_code == 200 and group.json() == {"config": {"identity": {"driver": "sql", "list_limit": None}}}
    ldap = admin_client.get("/v3/domains/config/ldap/default").json()["config"]["ldap"]
    for option, value in ldap.items():  # what tempest walks through
        shown = admin_client.get(f"/v3/domains/config/ldap/{option}/default")
        assert shown.status_code == 200 and shown.json() == {"config": {option: value}}


def test_default_config_errors(admin_client, member_client):
    for url, words in (("/v3/domains/config/nope/default", "nope"), ("/v3/domains/config/ldap/nope/default", "nope")):
        response = admin_client.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == 404 and words in response.json()["error"]["message"]
    refused = member_client.get("/v3/domains/config/default")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == 403
