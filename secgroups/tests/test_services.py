"""What the hosts are told to enforce, read from the DB, and which hosts are told when
rules or memberships change (the messages sent to compute.<host>)."""
import importlib

import pytest

from cloudproj.testing.servers import API
from compute.services import operations
from secgroups.linux import iptables
from secgroups.services import firewall, groups, membership, rules
from secgroups.services.firewall import Allow

pytestmark = pytest.mark.django_db

REFRESH = "secgroups.refresh_instance"


def refreshes(sent) -> set:
    return {(args[0], queue) for name, args, queue in sent if name == REFRESH}


def test_the_default_group_admits_its_members_and_nothing_else(member_client, boot, place):
    a = place(boot(member_client, "a")["server"]["id"], host="sg-unit")
    place(boot(member_client, "b")["server"]["id"], host="sg-unit-2")
    on_host = firewall.host_firewalls("sg-unit")
    assert [fw.uuid for fw in on_host] == [str(a.uuid)]
    (fw,) = on_host
    ip_a = fw.addresses[0].ip
    assert (fw.addresses[0].bridge, fw.addresses[0].dhcp_servers) == ("cptsgunit", ("10.236.50.1",))
    ip_b = firewall.host_firewalls("sg-unit-2")[0].addresses[0].ip
    assert fw.allows == (Allow(None, None, None, tuple(sorted([f"{ip_a}/32", f"{ip_b}/32"],
                                                              key=lambda c: int(c.split(".")[3].split("/")[0])))),)
    text = iptables.render_host("sg-unit", on_host)
    chain = iptables.instance_chain("sg-unit", a.uuid)
    assert f"-A {iptables.host_chain('sg-unit')} -d {ip_a}/32 -o cptsgunit -j {chain}" in text
    assert f"-A {chain} -s {ip_b}/32 -j ACCEPT" in text
    assert f"\n-A {chain} -j DROP\n" in text
    # the default group's egress rule: the guest may send anything
    assert fw.egress == (Allow(None, None, None, ("0.0.0.0/0",)),)
    out = iptables.egress_chain("sg-unit", a.uuid)
    assert f"-A {iptables.host_chain('sg-unit')} -s {ip_a}/32 -i cptsgunit -j {out}" in text
    assert text.rstrip().endswith(f"-A {out} -d 0.0.0.0/0 -j RETURN\n-A {out} -j DROP\nCOMMIT")
    # unplaced or address-less instances have no chain
    boot(member_client, "c")
    assert len(firewall.host_firewalls("sg-unit")) == 1


def test_a_live_migration_s_target_has_the_guest_s_chain_before_it_arrives(member_client, boot, place):
    """The target's prepare step writes the chains of the guests live-migrating to it (their host
    is still the source): the guest is never unfiltered there. A cold migration's target is not
    given one (it starts the guest after the instance is its own)."""
    from compute.models import InstanceResize

    a = place(boot(member_client, "a")["server"]["id"], host="sg-unit")
    assert firewall.host_firewalls("sg-unit-2") == []
    record = InstanceResize.objects.create(instance=a, kind=InstanceResize.LIVE, request_id="req-1",
                                           old_vm_state="active", source_host="sg-unit", dest_host="sg-unit-2")
    assert [fw.uuid for fw in firewall.host_firewalls("sg-unit-2")] == [str(a.uuid)]
    assert [fw.uuid for fw in firewall.host_firewalls("sg-unit")] == [str(a.uuid)]  # the source keeps it
    record.kind = InstanceResize.MIGRATION
    record.save(update_fields=["kind"])
    assert firewall.host_firewalls("sg-unit-2") == []

def test_rules_of_every_group_and_source_groups(member_client, member_account, boot, place):
    project_id = member_account[1].id
    web = groups.create_group(project_id, "web", "web")
    db = groups.create_group(project_id, "db", "db")
    rules.create_rule(web, ip_protocol="tcp", from_port=80, to_port=80, cidr="0.0.0.0/0")
    rules.create_rule(db, ip_protocol="tcp", from_port=5432, to_port=5432, group_id=web.pk)
    front = place(boot(member_client, "front", security_groups=[{"name": "web"}])["server"]["id"])
    back = place(boot(member_client, "back", security_groups=[{"name": "db"}])["server"]["id"])
    by_uuid = {fw.uuid: fw for fw in firewall.host_firewalls("sg-unit")}
    front_ip = by_uuid[str(front.uuid)].addresses[0].ip
    assert by_uuid[str(front.uuid)].allows == (Allow("tcp", 80, 80, ("0.0.0.0/0",)),)
    assert by_uuid[str(back.uuid)].allows == (Allow("tcp", 5432, 5432, (f"{front_ip}/32",)),)
    # a source group without members admits nobody: no rule at all
    membership.remove_from_instance(front, "web")
    assert firewall.instance_firewall(back).allows == ()


def test_hosts_of_the_affected_instances_are_told(member_client, member_account, boot, place, sent,
                                                  django_capture_on_commit_callbacks):
    project_id = member_account[1].id
    web = groups.create_group(project_id, "web", "web")
    db = groups.create_group(project_id, "db", "db")
    rules.create_rule(db, ip_protocol="tcp", from_port=5432, to_port=5432, group_id=web.pk)
    front = place(boot(member_client, "front", security_groups=[{"name": "web"}])["server"]["id"], host="h1")
    back = place(boot(member_client, "back", security_groups=[{"name": "db"}])["server"]["id"], host="h2")
    unplaced = boot(member_client, "later", security_groups=[{"name": "web"}])["server"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        rules.create_rule(web, ip_protocol="tcp", from_port=80, to_port=80, cidr="0.0.0.0/0")
    assert refreshes(sent) == {(str(front.uuid), "compute.h1")}  # `later` has no host yet
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        membership.add_to_instance(back, "web")
    # back gets web's rules; db members (back itself) admit web's new member
    assert refreshes(sent) == {(str(back.uuid), "compute.h2")}
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        membership.remove_from_instance(front, "web")
    assert refreshes(sent) == {(str(front.uuid), "compute.h1"), (str(back.uuid), "compute.h2")}
    sent.clear()
    rule = back.security_group_members.get(security_group=db).security_group.rules.get(direction="ingress")
    with django_capture_on_commit_callbacks(execute=True):
        rules.delete_rule(rule)
    assert refreshes(sent) == {(str(back.uuid), "compute.h2")}
    assert unplaced


def test_a_deleted_server_leaves_its_groups_and_its_peers_forget_it(member_client, boot, place, sent,
                                                                     django_capture_on_commit_callbacks):
    first = place(boot(member_client, "first")["server"]["id"], host="h1")
    second = place(boot(member_client, "second")["server"]["id"], host="h2")
    second_ip = firewall.instance_firewall(second).addresses[0].ip
    assert f"{second_ip}/32" in firewall.instance_firewall(first).allows[0].sources
    from compute.services.instances import soft_delete

    with django_capture_on_commit_callbacks(execute=True):
        soft_delete(second)
    assert refreshes(sent) == {(str(first.uuid), "compute.h1")}
    assert not second.security_group_members.exists()
    operations.release_addresses(second)
    first_ip = firewall.instance_firewall(first).addresses[0].ip
    assert firewall.instance_firewall(first).allows == (Allow(None, None, None, (f"{first_ip}/32",)),)


def test_rule_values_are_normalised(member_account):
    group = groups.create_group(member_account[1].id, "n", "n")
    rule = rules.create_rule(group, ip_protocol=" UDP ", from_port="53", to_port=" 53", cidr="10.1.2.3/8")
    # the prefix stays as written (Nova and Neutron show it so); what it allows is its network
    assert (rule.protocol, rule.from_port, rule.to_port, rule.cidr) == ("udp", 53, 53, "10.1.2.3/8")
    assert rule.network == "10.0.0.0/8"
    with pytest.raises(rules.RuleExists):  # the same network written another way is the same rule
        rules.create_rule(group, ip_protocol="udp", from_port=53, to_port=53, cidr="10.0.0.0/8")
    grant = rules.create_rule(group, group_id=str(group.pk))
    assert (grant.protocol, grant.from_port, grant.cidr, grant.group_id) == (None, None, None, group.pk)


def test_server_view_url(member_client):
    assert member_client.get(f"{API}/servers/nope/os-security-groups").status_code == 404


def test_servers_from_before_security_groups_join_their_groups(member_account, image):
    """The data migration: existing servers join the groups they asked for (default when none)."""
    import importlib

    from django.apps import apps

    from compute.api.servers import image_mapping
    from compute.models import Instance
    from compute.services.flavors import get_flavor
    from compute.services.instances import create_instances
    from identity.services import quotas
    from identity.services.context import RequestContext
    from secgroups.models import SecurityGroup

    user, project, _token = member_account
    ctx = RequestContext(user=user, project=project, roles=frozenset({"member"}))
    flavor = get_flavor("1", project.id, False)
    mapping = image_mapping(image)
    (old,) = create_instances(ctx, "old", flavor, mapping)
    (named,) = create_instances(ctx, "named", flavor, mapping, security_groups=["legacy"])
    migration = importlib.import_module("secgroups.migrations.0002_existing_instances")
    migration.forwards(apps, None)
    assert Instance.objects.get(pk=old.pk).security_groups == ["default"]
    assert [g.name for g in membership.groups_of(old)] == ["default"]
    assert [g.name for g in membership.groups_of(named)] == ["legacy"]
    default_rules = SecurityGroup.objects.get(project=project, name="default").rules
    assert default_rules.get(direction="ingress").group.name == "default"
    assert quotas.get_usages(project)["security_groups"]["in_use"] == 2


def test_egress_rules_are_what_members_may_send(member_client, member_account, boot, place):
    project_id = member_account[1].id
    web = groups.create_group(project_id, "web", "web")
    (default_egress,) = web.rules.all()
    assert (default_egress.direction, default_egress.protocol, default_egress.cidr, default_egress.group) == (
        "egress", None, None, None)
    front = place(boot(member_client, "front", security_groups=[{"name": "web"}])["server"]["id"])
    assert firewall.instance_firewall(front).egress == (Allow(None, None, None, ("0.0.0.0/0",)),)
    rules.create_rules(web, [rules.build_neutron_rule(web, {
        "direction": "egress", "protocol": "6", "port_range_min": 443, "remote_ip_prefix": "203.0.113.7/24"})])
    rules.delete_rule(default_egress)
    fw = firewall.instance_firewall(front)
    assert fw.egress == (Allow("tcp", 443, 443, ("203.0.113.0/24",)),) and fw.allows == ()


def test_migration_gives_existing_groups_the_egress_rule(member_account):
    from django.apps import apps

    from secgroups.models import SecurityGroup, SecurityGroupRule

    project_id = member_account[1].id
    old = SecurityGroup.objects.create(project_id=project_id, name="old")  # as before egress existed
    assert not old.rules.exists()
    migration = importlib.import_module("secgroups.migrations.0003_uuids_direction_egress")
    migration.egress_any(apps, None)
    migration.egress_any(apps, None)  # once
    (rule,) = SecurityGroupRule.objects.filter(parent_group=old)
    assert (rule.direction, rule.protocol, rule.cidr, rule.ethertype) == ("egress", None, None, "IPv4")


def test_a_chain_written_before_egress_existed_gets_the_whole_host_rewritten(member_client, boot, place, settings,
                                                                             monkeypatch):
    """refresh_instance on a host whose chains predate egress: the host chain needs the egress
    jumps, so the host's chains are rewritten (one restore) instead of the instance's only."""
    from secgroups.services import host

    settings.FIREWALL_DRIVER = "iptables"
    vm = place(boot(member_client, "vm")["server"]["id"], host="sg-unit")
    calls = []
    monkeypatch.setattr(iptables, "chains_of", lambda h: {iptables.host_chain(h), iptables.instance_chain(h, vm.uuid)})
    monkeypatch.setattr(iptables, "apply_host", lambda h, fws, remove=(): calls.append(("host", len(fws))))
    monkeypatch.setattr(iptables, "apply_instance", lambda h, fw: calls.append(("instance", fw.uuid)))
    assert host.refresh_instance(vm.uuid, "sg-unit") == "applied"
    assert calls == [("host", 1)]
    calls.clear()
    monkeypatch.setattr(iptables, "chains_of", lambda h: {iptables.host_chain(h), iptables.instance_chain(h, vm.uuid),
                                                          iptables.egress_chain(h, vm.uuid)})
    assert host.refresh_instance(vm.uuid, "sg-unit") == "applied"
    assert calls == [("instance", str(vm.uuid))]
