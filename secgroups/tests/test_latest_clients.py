"""Today's clients (python-openstackclient 10.x and openstacksdk 4.x, from the package index)
manage security groups and rules through the Networking API, against a live server."""
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_security_groups_and_rules_with_the_latest_openstack_client(latest_osc, admin_account, image):
    project_id = admin_account[1].id
    created = latest_osc("security", "group", "create", "--description", "web servers", "web")
    assert (created["name"], created["description"], created["project_id"]) == ("web", "web servers", project_id)
    assert [r["direction"] for r in created["rules"]] == ["egress"]  # Neutron's default egress rule
    shown = latest_osc("security", "group", "show", "web")
    assert shown["id"] == created["id"]
    assert {"default", "web"} <= {g["Name"] for g in latest_osc("security", "group", "list")}

    http = latest_osc("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", "web")
    assert (http["protocol"], http["port_range_min"], http["port_range_max"], http["remote_ip_prefix"],
            http["direction"]) == ("tcp", 80, 80, "0.0.0.0/0", "ingress")
    ping = latest_osc("security", "group", "rule", "create", "--protocol", "icmp", "web")
    assert (ping["protocol"], ping["port_range_min"]) == ("icmp", None)
    peers = latest_osc("security", "group", "rule", "create", "--remote-group", "default", "--protocol", "tcp",
                       "--dst-port", "22:23", "web")
    default_id = latest_osc("security", "group", "show", "default")["id"]
    assert (peers["remote_group_id"], peers["port_range_min"], peers["port_range_max"]) == (default_id, 22, 23)
    anything = latest_osc("security", "group", "rule", "create", "--protocol", "any", "--egress",
                          "--remote-ip", "10.0.0.0/8", "web")
    assert (anything["protocol"], anything["direction"], anything["remote_ip_prefix"]) == (
        None, "egress", "10.0.0.0/8")

    rules = latest_osc("security", "group", "rule", "list", "web")
    assert {r["ID"] for r in rules} >= {http["id"], ping["id"], peers["id"], anything["id"]} and len(rules) == 5
    latest_osc("security", "group", "rule", "delete", ping["id"], raw=True)
    assert ping["id"] not in {r["ID"] for r in latest_osc("security", "group", "rule", "list", "web")}
    bad = latest_osc("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "70000", "web",
                     check=False)
    assert bad.returncode != 0
    v6 = latest_osc("security", "group", "rule", "create", "--ethertype", "IPv6", "web", check=False)
    assert v6.returncode != 0 and "IPv6 is not supported" in v6.stderr

    # servers join groups by name; the server shows them
    latest_osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "vm1")
    latest_osc("server", "add", "security", "group", "vm1", "web", raw=True)
    assert "web" in str(latest_osc("server", "show", "vm1")["security_groups"])
    in_use = latest_osc("security", "group", "delete", "web", check=False)
    assert in_use.returncode != 0
    latest_osc("server", "remove", "security", "group", "vm1", "web", raw=True)
    latest_osc("security", "group", "delete", "web", raw=True)
    assert "web" not in {g["Name"] for g in latest_osc("security", "group", "list")}


def test_security_groups_with_the_latest_sdk(latest_sdk, admin_account):
    result = latest_sdk("""
        sg = conn.network.create_security_group(name="sdk-web", description="from the sdk")
        rule = conn.network.create_security_group_rule(
            security_group_id=sg.id, direction="ingress", ethertype="IPv4", protocol="tcp",
            port_range_min=443, port_range_max=443, remote_ip_prefix="192.0.2.0/24")
        found = list(conn.network.security_groups(name="sdk-web"))
        rules = list(conn.network.security_group_rules(security_group_id=sg.id, direction="ingress"))
        fetched = conn.network.get_security_group(sg.id)
        conn.network.delete_security_group_rule(rule)
        after = list(conn.network.security_group_rules(security_group_id=sg.id))
        conn.network.delete_security_group(sg)
        print(json.dumps({"id": sg.id, "found": [g.id for g in found], "rule": rule.id,
                          "rules": [r.id for r in rules], "port": rule.port_range_min,
                          "fetched": [r["direction"] for r in fetched.security_group_rules],
                          "after": [r.direction for r in after],
                          "gone": list(conn.network.security_groups(name="sdk-web")) == []}))
    """)
    assert result["found"] == [result["id"]] and result["rules"] == [result["rule"]] and result["port"] == 443
    assert sorted(result["fetched"]) == ["egress", "ingress"] and result["after"] == ["egress"]
    assert result["gone"]
