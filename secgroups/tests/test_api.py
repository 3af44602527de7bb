"""/os-security-groups, /os-security-group-rules and a server's groups, as a client sees
them: Nova v2.1 shapes, isolation between projects (404), quotas (403), bad input (400)."""
from urllib.parse import urlencode

import pytest

from identity.services import quotas
from cloudproj.testing.servers import API, error
from secgroups.models import SecurityGroup, SecurityGroupMember

pytestmark = pytest.mark.django_db


def create_group(client, name="web", description="web servers", status=200):
    response = client.post(f"{API}/os-security-groups", {"security_group": {"name": name, "description": description}},
                           format="json")
    assert response.status_code == status, response.content
    return response.json()


def add_rule(client, parent_group_id, status=200, **fields):
    body = {"security_group_rule": {"parent_group_id": parent_group_id, **fields}}
    response = client.post(f"{API}/os-security-group-rules", body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def groups(client, query=""):
    response = client.get(f"{API}/os-security-groups{query}")
    assert response.status_code == 200, response.content
    return {g["name"]: g for g in response.json()["security_groups"]}


def test_listing_creates_the_default_group_that_admits_its_own_members(member_client, member_account):
    listed = groups(member_client)
    assert list(listed) == ["default"]
    default = listed["default"]
    project_id = member_account[1].id
    assert (default["description"], default["tenant_id"]) == ("default", project_id)
    (rule,) = default["rules"]
    assert rule == {"id": rule["id"], "parent_group_id": default["id"], "ip_protocol": None, "from_port": None,
                    "to_port": None, "ip_range": {}, "group": {"name": "default", "tenant_id": project_id}}
    assert list(groups(member_client)) == ["default"]  # once
    assert quotas.get_usages(project_id)["security_groups"]["in_use"] == 1


def test_create_show_update_delete(member_client):
    created = create_group(member_client)["security_group"]
    assert (created["name"], created["description"], created["rules"]) == ("web", "web servers", [])
    group_id = created["id"]
    shown = member_client.get(f"{API}/os-security-groups/{group_id}").json()["security_group"]
    assert shown == created
    response = member_client.put(f"{API}/os-security-groups/{group_id}",
                                 {"security_group": {"name": "www", "description": "renamed"}}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["security_group"]["name"], response.json()["security_group"]["description"]) == (
        "www", "renamed")
    assert set(groups(member_client)) == {"default", "www"}
    assert member_client.delete(f"{API}/os-security-groups/{group_id}").status_code == 202
    assert set(groups(member_client)) == {"default"}
    error(member_client.get(f"{API}/os-security-groups/{group_id}"), 404)


def test_rules_are_created_listed_in_their_group_and_deleted(member_client):
    group_id = create_group(member_client)["security_group"]["id"]
    http = add_rule(member_client, group_id, ip_protocol="TCP", from_port=80, to_port="80", cidr="0.0.0.0/0")
    rule = http["security_group_rule"]
    assert rule == {"id": rule["id"], "parent_group_id": group_id, "ip_protocol": "tcp", "from_port": 80,
                    "to_port": 80, "ip_range": {"cidr": "0.0.0.0/0"}, "group": {}}
    ping = add_rule(member_client, group_id, ip_protocol="icmp", from_port=-1, to_port=-1)["security_group_rule"]
    assert ping["ip_range"] == {"cidr": "0.0.0.0/0"}  # no cidr: from anywhere, as Nova
    default_id = groups(member_client)["default"]["id"]
    from_default = add_rule(member_client, group_id, ip_protocol="tcp", from_port=22, to_port=22,
                            group_id=default_id)["security_group_rule"]
    assert (from_default["group"]["name"], from_default["ip_range"]) == ("default", {})
    listed = groups(member_client)["web"]["rules"]
    assert [r["id"] for r in listed] == [rule["id"], ping["id"], from_default["id"]]
    assert member_client.delete(f"{API}/os-security-group-rules/{ping['id']}").status_code == 202
    assert [r["id"] for r in groups(member_client)["web"]["rules"]] == [rule["id"], from_default["id"]]
    error(member_client.delete(f"{API}/os-security-group-rules/{ping['id']}"), 404)


def test_the_flat_form_body_of_the_openstack_client_is_accepted(member_client):
    def form(path, data):
        return member_client.post(f"{API}/{path}", urlencode(data), content_type="application/x-www-form-urlencoded")

    response = form("os-security-groups", {"name": "flat", "description": "d"})
    assert response.status_code == 200, response.content
    group_id = response.json()["security_group"]["id"]
    response = form("os-security-group-rules", {
        "parent_group_id": str(group_id), "ip_protocol": "tcp", "from_port": "80", "to_port": "80",
        "cidr": "0.0.0.0/0"})
    assert response.status_code == 200, response.content
    assert response.json()["security_group_rule"]["from_port"] == 80


@pytest.mark.parametrize("fields, message", [
    ({"ip_protocol": "gre", "from_port": 1, "to_port": 2}, "Invalid IP protocol"),
    ({"ip_protocol": "tcp", "from_port": 0, "to_port": 80}, "between 1-65535"),
    ({"ip_protocol": "udp", "from_port": 1, "to_port": 65536}, "between 1-65535"),
    ({"ip_protocol": "tcp", "from_port": 90, "to_port": 80}, "cannot be greater"),
    ({"ip_protocol": "icmp", "from_port": 256, "to_port": 0}, "type:code must be valid"),
    ({"ip_protocol": "tcp", "from_port": "x", "to_port": 80}, "must be an integer"),
    ({"ip_protocol": "tcp", "from_port": True, "to_port": 80}, "must be an integer"),
    ({"ip_protocol": "tcp", "from_port": 80}, "Not enough parameters"),
    ({"from_port": 80, "to_port": 80, "cidr": "0.0.0.0/0"}, "ip_protocol is required"),
    ({"ip_protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": "10.0.0.0/33"}, "Invalid cidr"),
    ({"ip_protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": "nonsense"}, "Invalid cidr"),
    ({"ip_protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": "::/0"}, "Invalid cidr"),
    ({"ip_protocol": "tcp", "from_port": 80, "to_port": 80, "group_id": 999999}, "not found"),
    ({"ip_protocol": "tcp", "from_port": 80, "to_port": 80, "group_id": "abc"}, "not found"),
    ({"ip_protocol": "tcp", "from_port": 80, "to_port": 80, "bogus": 1}, "additional properties"),
])
def test_bad_rules_are_400_envelopes(member_client, fields, message):
    group_id = create_group(member_client)["security_group"]["id"]
    assert message in error(member_client.post(
        f"{API}/os-security-group-rules", {"security_group_rule": {"parent_group_id": group_id, **fields}},
        format="json"), 400)


def test_bad_groups_and_parents(member_client):
    for body in ({"security_group": {"name": "", "description": "x"}},
                 {"security_group": {"name": "x" * 256, "description": "x"}},
                 {"security_group": {"name": 5, "description": "x"}},
                 {"security_group": {"name": "a\x07b", "description": "x"}},
                 {"security_group": "web"}, {}, {"other": {}}):
        error(member_client.post(f"{API}/os-security-groups", body, format="json"), 400)
    create_group(member_client)
    assert "already exists" in error(member_client.post(
        f"{API}/os-security-groups", {"security_group": {"name": "web", "description": "x"}}, format="json"), 400)
    for parent in ("abc", None):
        error(member_client.post(f"{API}/os-security-group-rules", {"security_group_rule": {
            "parent_group_id": parent, "ip_protocol": "tcp", "from_port": 1, "to_port": 2}}, format="json"), 400)
    error(member_client.post(f"{API}/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": 999999, "ip_protocol": "tcp", "from_port": 1, "to_port": 2}}, format="json"), 404)
    error(member_client.get(f"{API}/os-security-groups/default"), 404)  # by id only (the client then lists)


def test_duplicate_rules_and_the_default_group_are_protected(member_client):
    group_id = create_group(member_client)["security_group"]["id"]
    fields = {"ip_protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": "0.0.0.0/0"}
    add_rule(member_client, group_id, **fields)
    assert "already exists" in error(member_client.post(
        f"{API}/os-security-group-rules", {"security_group_rule": {"parent_group_id": group_id, **fields}},
        format="json"), 400)
    default_id = groups(member_client)["default"]["id"]
    assert "system group" in error(member_client.delete(f"{API}/os-security-groups/{default_id}"), 400)
    assert "system group" in error(member_client.put(
        f"{API}/os-security-groups/{default_id}", {"security_group": {"name": "x", "description": "y"}},
        format="json"), 400)


def test_projects_are_isolated(member_client, other_client, admin_client):
    group_id = create_group(member_client)["security_group"]["id"]
    rule_id = add_rule(member_client, group_id, ip_protocol="tcp", from_port=1, to_port=2)["security_group_rule"]["id"]
    assert "web" not in groups(other_client)
    error(other_client.get(f"{API}/os-security-groups/{group_id}"), 404)
    error(other_client.put(f"{API}/os-security-groups/{group_id}", {"security_group": {"name": "mine"}},
                           format="json"), 404)
    error(other_client.delete(f"{API}/os-security-groups/{group_id}"), 404)
    error(other_client.delete(f"{API}/os-security-group-rules/{rule_id}"), 404)
    error(other_client.post(f"{API}/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": group_id, "ip_protocol": "tcp", "from_port": 3, "to_port": 4}}, format="json"), 404)
    other_group = create_group(other_client, "theirs")["security_group"]["id"]
    # another project's group is no source group here
    assert "not found" in error(member_client.post(f"{API}/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": group_id, "ip_protocol": "tcp", "from_port": 3, "to_port": 4, "group_id": other_group}},
        format="json"), 400)
    # admins see every project's groups with all_tenants, and each group by id
    assert {"web", "theirs"} <= {g["name"] for g in admin_client.get(
        f"{API}/os-security-groups?all_tenants=1").json()["security_groups"]}
    assert "web" not in groups(admin_client, "?all_tenants=False")
    assert admin_client.get(f"{API}/os-security-groups/{group_id}").status_code == 200
    assert "web" not in groups(other_client, "?all_tenants=1")  # ignored for non-admins


def test_readers_may_look_but_not_change(make_account, member_client):
    from cloudproj.testing.clients import TokenClient

    reader = TokenClient(make_account("demo", "reader", username="demo-reader")[2])
    group_id = create_group(member_client)["security_group"]["id"]
    assert reader.get(f"{API}/os-security-groups/{group_id}").status_code == 200
    error(reader.post(f"{API}/os-security-groups", {"security_group": {"name": "r", "description": "r"}},
                      format="json"), 403)
    error(reader.delete(f"{API}/os-security-groups/{group_id}"), 403)


def test_quotas(member_client, member_account):
    project = member_account[1]
    quotas.set_quota(project, "security_groups", 2)
    quotas.set_quota(project, "security_group_rules", 3)  # the group's default egress rule counts (as Neutron's)
    create_group(member_client, "one")  # default + one
    assert "too many security groups" in error(member_client.post(
        f"{API}/os-security-groups", {"security_group": {"name": "two", "description": "x"}}, format="json"), 403)
    group_id = groups(member_client)["one"]["id"]
    add_rule(member_client, group_id, ip_protocol="tcp", from_port=1, to_port=1)
    add_rule(member_client, group_id, ip_protocol="tcp", from_port=2, to_port=2)
    assert "too many security group rules" in error(member_client.post(f"{API}/os-security-group-rules", {
        "security_group_rule": {"parent_group_id": group_id, "ip_protocol": "tcp", "from_port": 3, "to_port": 3}},
        format="json"), 403)
    limits = member_client.get(f"{API}/limits").json()["limits"]["absolute"]
    assert (limits["maxSecurityGroups"], limits["totalSecurityGroupsUsed"], limits["maxSecurityGroupRules"]) == (
        2, 2, 3)
    member_client.delete(f"{API}/os-security-groups/{group_id}")
    assert quotas.get_usages(project)["security_groups"]["in_use"] == 1
    create_group(member_client, "two")


def test_servers_are_created_in_existing_groups_only(member_client, other_client, boot, image):
    create_group(other_client, "web")  # another project's: not visible here
    assert "Security group web not found" in error(member_client.post(f"{API}/servers", {"server": {
        "name": "vm", "imageRef": str(image.id), "flavorRef": "1", "security_groups": [{"name": "web"}]}},
        format="json"), 400)
    created = boot(member_client, "vm")["server"]
    assert created["security_groups"] == [{"name": "default"}]
    create_group(member_client, "web")
    both = boot(member_client, "vm2", security_groups=[{"name": "web"}, {"name": "default"}])["server"]
    server = member_client.get(f"{API}/servers/{both['id']}").json()["server"]
    assert server["security_groups"] == [{"name": "web"}, {"name": "default"}]
    listed = member_client.get(f"{API}/servers/{both['id']}/os-security-groups").json()["security_groups"]
    assert [g["name"] for g in listed] == ["web", "default"]
    assert SecurityGroupMember.objects.filter(instance__uuid=created["id"]).count() == 1


def test_add_and_remove_a_group_on_a_server(member_client, other_client, boot):
    server_id = boot(member_client, "vm")["server"]["id"]
    web_id = create_group(member_client, "web")["security_group"]["id"]
    action = f"{API}/servers/{server_id}/action"
    assert member_client.post(action, {"addSecurityGroup": {"name": "web"}}, format="json").status_code == 202
    server = member_client.get(f"{API}/servers/{server_id}").json()["server"]
    assert server["security_groups"] == [{"name": "default"}, {"name": "web"}]
    assert "already associated" in error(member_client.post(action, {"addSecurityGroup": {"name": "web"}},
                                                            format="json"), 400)
    error(member_client.post(action, {"addSecurityGroup": {"name": "nope"}}, format="json"), 404)
    error(member_client.post(action, {"addSecurityGroup": {}}, format="json"), 400)
    error(other_client.post(action, {"addSecurityGroup": {"name": "web"}}, format="json"), 404)
    # a group in use cannot be deleted (400, as nova-network); renaming shows in the server
    assert "still in use" in error(member_client.delete(f"{API}/os-security-groups/{web_id}"), 400)
    member_client.put(f"{API}/os-security-groups/{web_id}", {"security_group": {"name": "www"}}, format="json")
    server = member_client.get(f"{API}/servers/{server_id}").json()["server"]
    assert server["security_groups"] == [{"name": "default"}, {"name": "www"}]
    for name in ("www", "default"):
        response = member_client.post(action, {"removeSecurityGroup": {"name": name}}, format="json")
        assert response.status_code == 202, response.content
    assert "not associated" in error(member_client.post(action, {"removeSecurityGroup": {"name": "www"}},
                                                        format="json"), 400)
    server = member_client.get(f"{API}/servers/{server_id}").json()["server"]
    assert "security_groups" not in server  # as Nova shows a server in no group
    assert member_client.get(f"{API}/servers/{server_id}/os-security-groups").json() == {"security_groups": []}
    assert member_client.delete(f"{API}/os-security-groups/{web_id}").status_code == 202


def test_deleting_a_server_releases_its_groups(member_client, boot):
    web_id = create_group(member_client, "web")["security_group"]["id"]
    server_id = boot(member_client, "vm", security_groups=[{"name": "web"}])["server"]["id"]
    assert member_client.delete(f"{API}/servers/{server_id}").status_code == 204  # never scheduled: local delete
    assert not SecurityGroupMember.objects.filter(security_group__uuid=web_id).exists()
    assert member_client.delete(f"{API}/os-security-groups/{web_id}").status_code == 202
    assert not SecurityGroup.objects.filter(uuid=web_id).exists()


def test_ids_are_uuids_and_the_old_integer_ids_still_work(member_client):
    import uuid

    created = create_group(member_client)["security_group"]
    uuid.UUID(created["id"])
    row = SecurityGroup.objects.get(uuid=created["id"])
    by_integer = member_client.get(f"{API}/os-security-groups/{row.pk}").json()["security_group"]
    assert by_integer["id"] == created["id"]
    rule = add_rule(member_client, row.pk, ip_protocol="tcp", from_port=80, to_port=80, group_id=created["id"])
    rule = rule["security_group_rule"]
    uuid.UUID(rule["id"])
    assert rule["parent_group_id"] == created["id"] and rule["group"]["name"] == "web"
    # the Networking API's egress rule is not shown here (the compute API's rules have no direction)
    assert [r["id"] for r in groups(member_client)["web"]["rules"]] == [rule["id"]]
    error(member_client.get(f"{API}/os-security-groups/{uuid.uuid4()}"), 404)
    error(member_client.post(f"{API}/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": "not-an-id", "ip_protocol": "tcp", "from_port": 1, "to_port": 1}}, format="json"), 400)
    assert member_client.delete(f"{API}/os-security-group-rules/{rule['id']}").status_code == 202


def test_a_server_names_its_group_by_uuid_and_shows_the_name(member_client, boot):
    web_id = create_group(member_client, "web")["security_group"]["id"]
    server = boot(member_client, "vm", security_groups=[{"name": web_id}, {"name": "web"}])["server"]
    shown = member_client.get(f"{API}/servers/{server['id']}").json()["server"]
    assert shown["security_groups"] == [{"name": "web"}]
    action = f"{API}/servers/{server['id']}/action"
    assert member_client.post(action, {"removeSecurityGroup": {"name": web_id}}, format="json").status_code == 202
    assert SecurityGroupMember.objects.filter(instance__uuid=server["id"]).count() == 0
