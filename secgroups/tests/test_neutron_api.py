"""The Networking API's security groups and rules (/network/v2.0/security-groups and
security-group-rules): Neutron's shapes, filters, errors (NeutronError envelope), the
default egress rule, bulk create, quotas, isolation between projects, and the hosts told."""
import re
import uuid

import pytest

from cloudproj.testing.servers import API
from identity.services import quotas

pytestmark = pytest.mark.django_db

NET = "/network/v2.0"
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")


def error(response, status, error_type=None):
    assert response.status_code == status, response.content[:500]
    body = response.json()["NeutronError"]
    if error_type:
        assert body["type"] == error_type, body
    return body["message"]


def create_group(client, name="web", status=201, **extra):
    response = client.post(f"{NET}/security-groups", {"security_group": {"name": name, **extra}}, format="json")
    assert response.status_code == status, response.content
    return response.json()["security_group"]


def add_rule(client, group_id, status=201, **fields):
    body = {"security_group_rule": {"security_group_id": group_id, "direction": "ingress", **fields}}
    response = client.post(f"{NET}/security-group-rules", body, format="json")
    assert response.status_code == status, response.content
    return response.json()["security_group_rule" if status == 201 else "NeutronError"]


def test_a_new_group_has_neutrons_shape_and_its_default_egress_rule(member_client, member_account):
    project_id = member_account[1].id
    group = create_group(member_client, description="web servers")
    uuid.UUID(group["id"])
    assert {k: group[k] for k in ("name", "description", "project_id", "tenant_id", "stateful", "shared", "tags",
                                  "revision_number")} == {
        "name": "web", "description": "web servers", "project_id": project_id, "tenant_id": project_id,
        "stateful": True, "shared": False, "tags": [], "revision_number": 0}
    assert TS.match(group["created_at"]) and TS.match(group["updated_at"])
    (egress,) = group["security_group_rules"]
    assert {k: egress[k] for k in ("security_group_id", "direction", "ethertype", "protocol", "port_range_min",
                                   "port_range_max", "remote_ip_prefix", "remote_group_id", "project_id")} == {
        "security_group_id": group["id"], "direction": "egress", "ethertype": "IPv4", "protocol": None,
        "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None,
        "project_id": project_id}
    shown = member_client.get(f"{NET}/security-groups/{group['id']}").json()["security_group"]
    assert shown == group
    # the same id in the compute API
    assert member_client.get(f"{API}/os-security-groups/{group['id']}").json()["security_group"]["id"] == group["id"]


def test_listing_creates_the_default_group_with_its_rules_and_filters_apply(member_client, other_client):
    listed = member_client.get(f"{NET}/security-groups").json()["security_groups"]
    (default,) = listed
    assert default["name"] == "default"
    rules = {(r["direction"], r["remote_group_id"]) for r in default["security_group_rules"]}
    assert rules == {("ingress", default["id"]), ("egress", None)}
    web = create_group(member_client)
    create_group(member_client, "db")
    create_group(other_client, "theirs")

    def names(query):
        response = member_client.get(f"{NET}/security-groups{query}")
        assert response.status_code == 200, response.content
        return [g["name"] for g in response.json()["security_groups"]]

    assert names("") == ["default", "web", "db"]  # not the other project's
    assert names("?name=web") == ["web"]
    assert names(f"?id={web['id']}") == ["web"]
    assert names(f"?project_id={web['project_id']}&name=db") == ["db"]
    assert names(f"?tenant_id={web['project_id']}&name=db&name=web") == ["web", "db"]
    page = member_client.get(f"{NET}/security-groups?limit=2").json()
    assert len(page["security_groups"]) == 2 and page["security_groups_links"][0]["rel"] == "next"
    only = member_client.get(f"{NET}/security-groups?name=web&fields=id&fields=name").json()["security_groups"]
    assert only == [{"id": web["id"], "name": "web"}]
    error(member_client.get(f"{NET}/security-groups?colour=red"), 400)


def test_update_and_delete(member_client):
    group = create_group(member_client)
    response = member_client.put(f"{NET}/security-groups/{group['id']}",
                                 {"security_group": {"name": "www", "description": "renamed"}}, format="json")
    assert response.status_code == 200, response.content
    updated = response.json()["security_group"]
    assert (updated["name"], updated["description"], updated["revision_number"]) == ("www", "renamed", 1)
    assert member_client.delete(f"{NET}/security-groups/{group['id']}").status_code == 204
    error(member_client.get(f"{NET}/security-groups/{group['id']}"), 404, "SecurityGroupNotFound")
    error(member_client.delete(f"{NET}/security-groups/{group['id']}"), 404, "SecurityGroupNotFound")
    error(member_client.get(f"{NET}/security-groups/not-a-uuid"), 404, "SecurityGroupNotFound")


def test_group_errors(member_client, boot):
    default = member_client.get(f"{NET}/security-groups?name=default").json()["security_groups"][0]
    error(member_client.delete(f"{NET}/security-groups/{default['id']}"), 409, "SecurityGroupCannotRemoveDefault")
    error(member_client.put(f"{NET}/security-groups/{default['id']}", {"security_group": {"name": "x"}},
                            format="json"), 409, "SecurityGroupCannotUpdateDefault")
    create_group(member_client)
    error(member_client.post(f"{NET}/security-groups", {"security_group": {"name": "web"}}, format="json"), 409,
          "SecurityGroupExists")
    for bad in ({"name": "x\x01"}, {"name": "x", "colour": "red"}, {"name": "x", "stateful": False},
                {"name": 7}):
        error(member_client.post(f"{NET}/security-groups", {"security_group": bad}, format="json"), 400)
    error(member_client.post(f"{NET}/security-groups", {"nothing": {}}, format="json"), 400)
    error(member_client.post(f"{NET}/security-groups", {"security_group": {
        "name": "x", "project_id": uuid.uuid4().hex}}, format="json"), 400)
    # a group with members cannot go
    boot(member_client, "vm", security_groups=[{"name": "web"}])
    web = member_client.get(f"{NET}/security-groups?name=web").json()["security_groups"][0]
    assert "in use" in error(member_client.delete(f"{NET}/security-groups/{web['id']}"), 409, "SecurityGroupInUse")


def test_rules_created_listed_filtered_and_deleted(member_client, sent, place, boot,
                                                   django_capture_on_commit_callbacks):
    group = create_group(member_client)
    server = place(boot(member_client, "vm", security_groups=[{"name": "web"}])["server"]["id"], host="h1")
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        http = add_rule(member_client, group["id"], protocol="tcp", port_range_min=80, port_range_max=80,
                        remote_ip_prefix="0.0.0.0/0", description="web")
    assert ("secgroups.refresh_instance", [str(server.uuid)], "compute.h1") in [
        (name, args[:1], queue) for name, args, queue in sent]  # the member's host re-applies its chain
    assert {k: http[k] for k in ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
                                 "remote_ip_prefix", "description", "security_group_id")} == {
        "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80,
        "remote_ip_prefix": "0.0.0.0/0", "description": "web", "security_group_id": group["id"]}
    ping = add_rule(member_client, group["id"], protocol="1")
    assert (ping["protocol"], ping["port_range_min"], ping["port_range_max"]) == ("icmp", None, None)
    echo = add_rule(member_client, group["id"], protocol="icmp", port_range_min=8, port_range_max=0,
                    remote_ip_prefix="10.1.2.3/16")
    # Neutron keeps the prefix as written and shows its network as normalized_cidr
    assert (echo["port_range_min"], echo["port_range_max"], echo["remote_ip_prefix"], echo["normalized_cidr"]) == (
        8, 0, "10.1.2.3/16", "10.1.0.0/16")
    default = member_client.get(f"{NET}/security-groups?name=default").json()["security_groups"][0]
    peers = add_rule(member_client, group["id"], protocol=None, remote_group_id=default["id"])
    assert (peers["protocol"], peers["remote_group_id"], peers["remote_ip_prefix"]) == (None, default["id"], None)
    out = add_rule(member_client, group["id"], direction="egress", protocol="udp", port_range_min=53,
                   port_range_max=53, remote_ip_prefix="10.0.0.2/32")

    def ids(query):
        response = member_client.get(f"{NET}/security-group-rules{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["security_group_rules"]]

    egress_default = next(r["id"] for r in group["security_group_rules"])
    mine = f"?security_group_id={group['id']}"
    assert ids(mine) == [egress_default, http["id"], ping["id"], echo["id"], peers["id"], out["id"]]
    assert ids(mine + "&direction=egress") == [egress_default, out["id"]]
    assert ids(mine + "&protocol=icmp") == [ping["id"], echo["id"]]
    assert ids(mine + "&ethertype=IPv4&port_range_min=80&port_range_max=80") == [http["id"]]
    assert ids(f"?remote_group_id={default['id']}&security_group_id={group['id']}") == [peers["id"]]
    assert ids(mine + "&remote_ip_prefix=10.1.0.0/16") == [echo["id"]]
    assert set(ids(f"?project_id={group['project_id']}")) >= set(ids(mine))
    shown = member_client.get(f"{NET}/security-group-rules/{http['id']}").json()["security_group_rule"]
    assert shown == http
    listed = member_client.get(f"{NET}/security-groups/{group['id']}").json()["security_group"]
    assert len(listed["security_group_rules"]) == 6 and listed["revision_number"] == 5
    # the compute API shows the ingress ones, under the same ids
    compute_rules = member_client.get(f"{API}/os-security-groups/{group['id']}").json()["security_group"]["rules"]
    assert [r["id"] for r in compute_rules] == [http["id"], ping["id"], echo["id"], peers["id"]]
    assert member_client.delete(f"{NET}/security-group-rules/{out['id']}").status_code == 204
    error(member_client.delete(f"{NET}/security-group-rules/{out['id']}"), 404, "SecurityGroupRuleNotFound")
    # the default egress rule may be deleted, as in Neutron
    assert member_client.delete(f"{NET}/security-group-rules/{egress_default}").status_code == 204
    assert ids(mine + "&direction=egress") == []


def test_bulk_create_is_all_or_nothing(member_client):
    group = create_group(member_client)
    body = {"security_group_rules": [
        {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 22,
         "port_range_max": 22},
        {"security_group_id": group["id"], "direction": "ingress", "protocol": "17", "port_range_min": 53,
         "port_range_max": 53},
    ]}
    response = member_client.post(f"{NET}/security-group-rules", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()["security_group_rules"]
    assert [(r["protocol"], r["port_range_min"]) for r in created] == [("tcp", 22), ("udp", 53)]
    bad = {"security_group_rules": [
        {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 443,
         "port_range_max": 443},
        {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 22,
         "port_range_max": 22},  # exists
    ]}
    error(member_client.post(f"{NET}/security-group-rules", bad, format="json"), 409, "SecurityGroupRuleExists")
    rules = member_client.get(f"{NET}/security-group-rules?security_group_id={group['id']}").json()
    assert 443 not in [r["port_range_min"] for r in rules["security_group_rules"]]


@pytest.mark.parametrize("fields, message", [
    ({"ethertype": "IPv6"}, "IPv6 is not supported by this cloud"),
    ({"remote_ip_prefix": "2001:db8::/32"}, "IPv6 is not supported by this cloud"),
    ({"protocol": "ipv6-icmp"}, "IPv6 is not supported by this cloud"),
    ({"direction": "sideways"}, "direction"),
    ({"protocol": "gre"}, "not supported"),
    ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 80}, "Invalid value for port 0"),
    ({"protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, "port_range_min must be <= port_range_max"),
    ({"protocol": "udp", "port_range_min": 1, "port_range_max": 65536}, "Invalid value for port 65536"),
    ({"protocol": "tcp", "port_range_max": 80}, "port_range_min must be <= port_range_max"),
    ({"protocol": "icmp", "port_range_min": 256}, "ICMP type"),
    ({"protocol": "icmp", "port_range_max": 0}, "ICMP type (port-range-min) is missing"),
    ({"protocol": None, "port_range_min": 80, "port_range_max": 80}, "Must also specify protocol"),
    ({"protocol": "tcp", "port_range_min": "eighty"}, "not an integer"),
    ({"remote_ip_prefix": "10.0.0.0/33"}, "not a valid IP subnet"),
    ({"remote_ip_prefix": "0.0.0.0/0 -j ACCEPT"}, "not a valid IP subnet"),
    ({"colour": "red"}, "Unrecognized attribute"),
])
def test_bad_rules_are_400s_and_nothing_is_created(member_client, fields, message):
    group = create_group(member_client)
    body = {"security_group_rule": {"security_group_id": group["id"], "direction": "ingress", **fields}}
    assert message in error(member_client.post(f"{NET}/security-group-rules", body, format="json"), 400)
    rules = member_client.get(f"{NET}/security-group-rules?security_group_id={group['id']}").json()
    assert len(rules["security_group_rules"]) == 1  # the default egress rule only


def test_rule_conflicts_quota_and_unknown_groups(member_client, member_account, other_client):
    group = create_group(member_client)
    add_rule(member_client, group["id"], protocol="tcp", port_range_min=80, port_range_max=80)
    assert "already exists" in error(member_client.post(f"{NET}/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "6", "port_range_min": 80,
        "port_range_max": 80}}, format="json"), 409, "SecurityGroupRuleExists")
    # no remote and 0.0.0.0/0 are the same remote
    add_rule(member_client, group["id"], protocol="udp", port_range_min=5, port_range_max=5)
    add_rule(member_client, group["id"], status=409, protocol="udp", port_range_min=5, port_range_max=5,
             remote_ip_prefix="0.0.0.0/0")
    quotas.set_quota(member_account[1], "security_group_rules", 3)
    error(member_client.post(f"{NET}/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 8,
        "port_range_max": 8}}, format="json"), 409, "OverQuota")
    quotas.set_quota(member_account[1], "security_groups", 2)  # default + web
    error(member_client.post(f"{NET}/security-groups", {"security_group": {"name": "more"}}, format="json"), 409,
          "OverQuota")
    error(member_client.post(f"{NET}/security-group-rules", {"security_group_rule": {
        "security_group_id": str(uuid.uuid4()), "direction": "ingress"}}, format="json"), 404,
        "SecurityGroupNotFound")
    theirs = create_group(other_client, "theirs")
    # another project's group: not found, neither as parent nor as remote group
    error(member_client.post(f"{NET}/security-group-rules", {"security_group_rule": {
        "security_group_id": theirs["id"], "direction": "ingress"}}, format="json"), 404, "SecurityGroupNotFound")
    quotas.set_quota(member_account[1], "security_group_rules", 10)
    error(member_client.post(f"{NET}/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "remote_group_id": theirs["id"]}}, format="json"),
        404, "SecurityGroupNotFound")
    error(member_client.get(f"{NET}/security-groups/{theirs['id']}"), 404)
    their_rule = theirs["security_group_rules"][0]["id"]
    error(member_client.delete(f"{NET}/security-group-rules/{their_rule}"), 404, "SecurityGroupRuleNotFound")
    assert their_rule not in [r["id"] for r in member_client.get(f"{NET}/security-group-rules").json()[
        "security_group_rules"]]


def test_admins_see_every_project_and_readers_only_look(admin_client, member_client, make_account):
    from cloudproj.testing.clients import TokenClient

    group = create_group(member_client)
    assert group["id"] in [g["id"] for g in admin_client.get(f"{NET}/security-groups").json()["security_groups"]]
    assert admin_client.get(f"{NET}/security-groups/{group['id']}").status_code == 200
    reader = TokenClient(make_account("demo", "reader", username="demo-reader")[2])
    assert reader.get(f"{NET}/security-groups/{group['id']}").status_code == 200
    error(reader.post(f"{NET}/security-groups", {"security_group": {"name": "r"}}, format="json"), 403)
    error(reader.delete(f"{NET}/security-groups/{group['id']}"), 403)
    error(reader.post(f"{NET}/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress"}}, format="json"), 403)


def test_served_resources_and_extensions(member_client):
    collections = [r["collection"] for r in member_client.get(f"{NET}/").json()["resources"]]
    assert {"security-groups", "security-group-rules"} <= set(collections)
    response = member_client.get(f"{NET}/extensions")
    if response.status_code == 200:  # the plumbing's extensions view
        aliases = {e["alias"] for e in response.json()["extensions"]}
        assert {"security-group", "standard-attr-description"} <= aliases


def test_a_servers_port_names_its_groups_by_the_same_ids(member_client, boot, place):
    web = create_group(member_client)
    server = place(boot(member_client, "vm", security_groups=[{"name": "web"}])["server"]["id"])
    response = member_client.get(f"{NET}/ports?device_id={server.uuid}")
    assert response.status_code == 200, response.content
    (port,) = response.json()["ports"]
    assert port["security_groups"] == [web["id"]]


def test_admins_add_rules_to_another_projects_group(admin_client, member_client):
    group = create_group(member_client)
    rule = add_rule(admin_client, group["id"], protocol="tcp", port_range_min=25, port_range_max=25)
    assert rule["project_id"] == group["project_id"]
    add_rule(admin_client, group["id"], status=400, protocol="tcp", port_range_min=26, port_range_max=26,
             project_id=uuid.uuid4().hex)


def test_an_admin_may_delete_a_projects_default_group_and_it_comes_back(member_client, admin_client, member_account):
    """As Neutron (and what tempest's credential clean-up does): an admin deletes the default
    group of a project; the project's next listing creates it again, with its default rules."""
    default = member_client.get(f"{NET}/security-groups?name=default").json()["security_groups"][0]
    assert admin_client.delete(f"{NET}/security-groups/{default['id']}").status_code == 204
    error(member_client.get(f"{NET}/security-groups/{default['id']}"), 404, "SecurityGroupNotFound")
    (again,) = member_client.get(f"{NET}/security-groups?name=default").json()["security_groups"]
    assert again["id"] != default["id"]
    assert {r["direction"] for r in again["security_group_rules"]} == {"ingress", "egress"}
