"""The pinned `openstack` client (requirements-dev.txt) against a live server. With the
`network` entry in the catalog it manages security groups through the Networking API, as
every release since has done (10.0 removed the nova-network paths); servers join groups
through the compute API."""
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_security_groups_and_rules_through_the_client(osc, admin_account):
    assert [g["Name"] for g in osc("security", "group", "list")] == ["default"]
    created = osc("security", "group", "create", "--description", "web servers", "web")
    assert (created["name"], created["description"], created["project_id"]) == (
        "web", "web servers", admin_account[1].id)
    shown = osc("security", "group", "show", "web")
    assert shown["id"] == created["id"] and [r["direction"] for r in shown["rules"]] == ["egress"]

    http = osc("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", "web")
    assert (http["protocol"], http["port_range_min"], http["port_range_max"], http["remote_ip_prefix"]) == (
        "tcp", 80, 80, "0.0.0.0/0")
    ssh = osc("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22:23",
              "--remote-group", "default", "web")
    default_id = osc("security", "group", "show", "default")["id"]
    assert (ssh["remote_group_id"], ssh["port_range_min"], ssh["port_range_max"]) == (default_id, 22, 23)
    ping = osc("security", "group", "rule", "create", "--protocol", "icmp", "--remote-ip", "10.0.0.0/8", "web")
    assert (ping["protocol"], ping["remote_ip_prefix"]) == ("icmp", "10.0.0.0/8")

    rules = osc("security", "group", "rule", "list", "web")
    assert {r["ID"] for r in rules} == {http["id"], ssh["id"], ping["id"], shown["rules"][0]["id"]}
    assert {r["Port Range"] for r in rules} == {"80:80", "22:23", ""}
    everything = osc("security", "group", "rule", "list")
    assert len(everything) == 6  # and the default group's two rules
    osc("security", "group", "rule", "delete", str(ping["id"]), raw=True)
    assert len(osc("security", "group", "rule", "list", "web")) == 3

    bad = osc("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "70000", "web", check=False)
    assert bad.returncode != 0
    osc("security", "group", "set", "--name", "www", "--description", "renamed", "web", raw=True)
    assert osc("security", "group", "show", "www")["description"] == "renamed"
    osc("security", "group", "delete", "www", raw=True)
    assert [g["Name"] for g in osc("security", "group", "list")] == ["default"]


def test_server_groups_through_the_client(osc, image, admin_account):
    """`server create --security-group`, `server add/remove security group` (every client release)."""
    from secgroups.services import groups

    project_id = admin_account[1].id
    web = groups.create_group(project_id, "web", "web servers")
    server = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "--security-group", "web", "vm1")
    shown = osc("server", "show", "vm1")
    assert shown["id"] == server["id"]
    assert "web" in str(shown["security_groups"]) and "default" not in str(shown["security_groups"])
    osc("server", "add", "security", "group", "vm1", "default", raw=True)
    assert "default" in str(osc("server", "show", "vm1")["security_groups"])
    with pytest.raises(groups.InvalidSecurityGroup, match="in use"):
        groups.delete_group(web)
    osc("server", "remove", "security", "group", "vm1", "web", raw=True)
    shown_groups = str(osc("server", "show", "vm1")["security_groups"])
    assert "web" not in shown_groups and "default" in shown_groups
    groups.delete_group(web)
    unknown = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "--security-group", "web",
                  "vm2", check=False)
    assert unknown.returncode != 0
