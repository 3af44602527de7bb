"""Security groups panel: list, create, edit description, delete; rules add (tcp/udp/icmp,
port range, CIDR or source group) and delete; refusals readable; other projects' groups 404."""
from secgroups.models import SecurityGroup, SecurityGroupRule


def group_page(client, group):
    return client.get(f"/dashboard/security-groups/{group.pk}/").content.decode()


def add_rule(client, group, **fields):
    data = {"kind": "rule", "rule-ip_protocol": "tcp", "rule-from_port": "22", "rule-to_port": "22",
            "rule-cidr": "0.0.0.0/0", "rule-group_id": ""}
    data.update({f"rule-{k}": v for k, v in fields.items()})
    return client.post(f"/dashboard/security-groups/{group.pk}/", data)


def test_create_edit_rules_delete(member):
    client = member["client"]
    page = client.get("/dashboard/security-groups/").content.decode()
    assert ">default</a>" in page  # made on first listing, as the API does
    response = client.post("/dashboard/security-groups/", {"name": "web", "description": "web servers"})
    assert response.status_code == 302
    group = SecurityGroup.objects.get(project=member["project"], name="web")
    assert response["Location"] == f"/dashboard/security-groups/{group.pk}/"

    assert add_rule(client, group, ip_protocol="tcp", from_port="80", to_port="443", cidr="10.0.0.0/8").status_code == 302
    assert add_rule(client, group, ip_protocol="icmp", from_port="-1", to_port="-1", cidr="").status_code == 302
    default = SecurityGroup.objects.get(project=member["project"], name="default")
    assert add_rule(client, group, ip_protocol="udp", from_port="53", to_port="53", cidr="",
                    group_id=str(default.pk)).status_code == 302
    page = group_page(client, group)
    assert "80–443" in page and "10.0.0.0/8" in page and "group default" in page and "icmp" in page
    assert "<td>egress</td>" in page  # the group's default egress rule
    assert group.rules.count() == 4

    response = client.post(f"/dashboard/security-groups/{group.pk}/",
                           {"kind": "edit", "edit-name": "web", "edit-description": "front ends"})
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.description == "front ends"

    rule = group.rules.get(protocol="icmp")
    assert client.post(f"/dashboard/security-groups/{group.pk}/rules/{rule.pk}/delete/").status_code == 302
    assert group.rules.count() == 3
    assert client.post(f"/dashboard/security-groups/{group.pk}/delete/").status_code == 302
    assert not SecurityGroup.objects.filter(pk=group.pk).exists()
    assert not SecurityGroupRule.objects.filter(parent_group_id=group.pk).exists()


def test_bad_rules_and_names_are_messages(member):
    client = member["client"]
    client.post("/dashboard/security-groups/", {"name": "web"})
    group = SecurityGroup.objects.get(name="web")
    cases = [
        ({"from_port": "100", "to_port": "10"}, "Invalid port range"),
        ({"from_port": "0", "to_port": "80"}, "Invalid port range"),
        ({"cidr": "10.0.0.300/8"}, "Invalid cidr"),
        ({"cidr": "not-a-net"}, "Invalid cidr"),
        ({"ip_protocol": "gre"}, "Select a valid choice"),
        ({"from_port": "x"}, "Enter a whole number"),
        ({"ip_protocol": "icmp", "from_port": "300", "to_port": "0"}, "the type:code must be valid"),
    ]
    for fields, message in cases:
        response = add_rule(client, group, **fields)
        assert response.status_code == 400, fields
        assert message in response.content.decode(), (fields, response.content.decode()[-3000:])
    add_rule(client, group)
    response = add_rule(client, group)
    assert response.status_code == 400 and b"This rule already exists" in response.content
    assert group.rules.filter(direction="ingress").count() == 1
    response = client.post("/dashboard/security-groups/", {"name": "web"})
    assert response.status_code == 400 and b"Security group web already exists." in response.content
    response = client.post("/dashboard/security-groups/", {"name": ""})
    assert response.status_code == 400 and b"This field is required." in response.content
    default = SecurityGroup.objects.get(name="default", project=member["project"])
    response = client.post(f"/dashboard/security-groups/{default.pk}/delete/", follow=True)
    assert b"Unable to delete system group" in response.content
    response = client.post(f"/dashboard/security-groups/{default.pk}/",
                           {"kind": "edit", "edit-name": "x", "edit-description": "y"})
    assert response.status_code == 400 and b"Unable to update system group" in response.content
    assert SecurityGroup.objects.filter(project=member["project"]).count() == 2


def test_another_projects_groups_are_404(member, other):
    other["client"].post("/dashboard/security-groups/", {"name": "theirs"})
    theirs = SecurityGroup.objects.get(name="theirs")
    add_rule(other["client"], theirs)
    rule = theirs.rules.get(direction="ingress")
    client = member["client"]
    assert "theirs" not in client.get("/dashboard/security-groups/").content.decode()
    assert client.get(f"/dashboard/security-groups/{theirs.pk}/").status_code == 404
    assert add_rule(client, theirs, from_port="23", to_port="23").status_code == 404
    assert client.post(f"/dashboard/security-groups/{theirs.pk}/delete/").status_code == 404
    assert client.post(f"/dashboard/security-groups/{theirs.pk}/rules/{rule.pk}/delete/").status_code == 404
    client.get("/dashboard/security-groups/")
    mine = SecurityGroup.objects.get(project=member["project"], name="default")
    # their rule through my group's URL, and their group as a source of my rule
    assert client.post(f"/dashboard/security-groups/{mine.pk}/rules/{rule.pk}/delete/").status_code == 404
    response = add_rule(client, mine, group_id=str(theirs.pk), cidr="")
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    assert list(theirs.rules.filter(direction="ingress").values_list("from_port", flat=True)) == [22]
    assert SecurityGroup.objects.filter(pk=theirs.pk).exists()


def test_group_pages_queries_do_not_grow(member, django_assert_max_num_queries):
    client = member["client"]
    client.post("/dashboard/security-groups/", {"name": "g0"})
    group = SecurityGroup.objects.get(name="g0")
    with django_assert_max_num_queries(14) as capture:
        client.get("/dashboard/security-groups/")
    few_list = len(capture.captured_queries)  # read now: each request clears Django's query log
    with django_assert_max_num_queries(14) as capture:
        group_page(client, group)
    few_rules = len(capture.captured_queries)
    source = SecurityGroup.objects.get(name="default", project=member["project"])
    for n in range(1, 30):
        SecurityGroup.objects.create(project=member["project"], name=f"g{n}")
        SecurityGroupRule.objects.create(parent_group=group, protocol="tcp", from_port=n, to_port=n, group=source)
    with django_assert_max_num_queries(few_list):
        assert client.get("/dashboard/security-groups/").content.decode().count('<tr id="secgroup-') == 31
    with django_assert_max_num_queries(few_rules):
        assert group_page(client, group).count('<tr id="rule-') == 30  # and the default egress rule
