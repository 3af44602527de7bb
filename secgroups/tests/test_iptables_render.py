"""The iptables text generated for a given set of rules (pure: nothing touches the host)."""
from cloudproj.host import cloud

import pytest

from network.validate import InvalidValue
from secgroups.linux import iptables
from secgroups.services.firewall import Address, Allow, InstanceFirewall

HOST = "sg-host"
H = "cpsg-" + cloud.host_digest(HOST)
UUID = "0123456789abcdef0123456789abcdef"
CHAIN = f"{H}-0123456789abcdef"


def web_server():
    return InstanceFirewall(
        uuid=UUID,
        addresses=(Address("10.236.0.5", "cptsg0", ("10.236.0.1",)),),
        allows=(
            Allow("tcp", 80, 80, ("0.0.0.0/0",)),
            Allow("tcp", 8000, 8080, ("192.168.1.0/24",)),
            Allow("udp", 53, 53, ("10.0.0.0/8",)),
            Allow("icmp", -1, -1, ("0.0.0.0/0",)),
            Allow("icmp", 8, -1, ("10.1.0.0/16",)),
            Allow("icmp", 3, 4, ("10.2.0.0/16",)),
            Allow(None, None, None, ("10.236.0.6/32", "10.236.0.7/32")),  # the members of a source group
        ),
    )


def test_names_are_short_owned_and_per_host():
    assert iptables.host_chain(HOST) == H and len(H) == 11
    assert iptables.instance_chain(HOST, UUID) == CHAIN and len(CHAIN) <= 28
    assert iptables.host_chain("other-host") != H
    with pytest.raises(InvalidValue):
        iptables.instance_chain(HOST, "not-a-uuid")
    for bad in ("FORWARD", "cpsg-xyz", "cpsg-abcdef-1; reboot", H + "-0123"):
        with pytest.raises(InvalidValue):
            iptables.chain_name(bad)


def test_instance_chain_text_for_a_set_of_rules():
    assert iptables.instance_rules(CHAIN, web_server()) == [
        f"-A {CHAIN} -m conntrack --ctstate INVALID -j DROP",
        f"-A {CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        f"-A {CHAIN} -s 10.236.0.1/32 -p udp -m udp --sport 67 --dport 68 -j ACCEPT",
        f"-A {CHAIN} -s 0.0.0.0/0 -p tcp -m tcp --dport 80 -j ACCEPT",
        f"-A {CHAIN} -s 192.168.1.0/24 -p tcp -m tcp --dport 8000:8080 -j ACCEPT",
        f"-A {CHAIN} -s 10.0.0.0/8 -p udp -m udp --dport 53 -j ACCEPT",
        f"-A {CHAIN} -s 0.0.0.0/0 -p icmp -j ACCEPT",
        f"-A {CHAIN} -s 10.1.0.0/16 -p icmp -m icmp --icmp-type 8 -j ACCEPT",
        f"-A {CHAIN} -s 10.2.0.0/16 -p icmp -m icmp --icmp-type 3/4 -j ACCEPT",
        f"-A {CHAIN} -s 10.236.0.6/32 -j ACCEPT",
        f"-A {CHAIN} -s 10.236.0.7/32 -j ACCEPT",
        f"-A {CHAIN} -j DROP",
    ]


def test_a_default_group_member_alone_admits_nothing_but_dhcp_and_replies():
    alone = InstanceFirewall(UUID, (Address("10.236.0.5", "cptsg0", ("10.236.0.1",)),), ())
    assert iptables.render_instance(HOST, alone) == "\n".join([
        "*filter",
        f":{CHAIN} - [0:0]",
        f"-A {CHAIN} -m conntrack --ctstate INVALID -j DROP",
        f"-A {CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        f"-A {CHAIN} -s 10.236.0.1/32 -p udp -m udp --sport 67 --dport 68 -j ACCEPT",
        f"-A {CHAIN} -j DROP",
        "COMMIT",
        "",
    ])


def test_host_text_declares_only_its_own_chains_and_deletes_stale_ones():
    second = InstanceFirewall("fedcba98765432100123456789abcdef",
                              (Address("10.236.0.9", "cptsg0", ("10.236.0.1",)), Address("10.237.0.9", "cptsg1", ())),
                              ())
    stale = f"{H}-1111111111111111"
    text = iptables.render_host(HOST, [web_server(), second], remove=[stale, CHAIN, H])
    lines = text.splitlines()
    second_chain = f"{H}-fedcba9876543210"
    assert lines[:5] == ["*filter", f":{H} - [0:0]", f":{CHAIN} - [0:0]", f":{second_chain} - [0:0]",
                         f":{stale} - [0:0]"]
    assert lines[5:9] == [
        f"-X {stale}",
        f"-A {H} -d 10.236.0.5/32 -o cptsg0 -j {CHAIN}",
        f"-A {H} -d 10.236.0.9/32 -o cptsg0 -j {second_chain}",
        f"-A {H} -d 10.237.0.9/32 -o cptsg1 -j {second_chain}",
    ]
    assert lines[-2:] == ["COMMIT", ""] or text.endswith("COMMIT\n")
    declared = [line[1:].split()[0] for line in lines if line.startswith(":")]
    assert all(name.startswith(H) for name in declared)  # nothing but this host's chains
    assert not any(line.startswith(("-A FORWARD", "-A OUTPUT", "-F", "-P")) for line in lines)
    assert f"-A {second_chain} -j DROP" in lines


def test_an_empty_host_keeps_only_its_host_chain():
    assert iptables.render_host(HOST, []) == f"*filter\n:{H} - [0:0]\nCOMMIT\n"
    assert iptables.render_removal([H, CHAIN]) == (
        f"*filter\n:{H} - [0:0]\n:{CHAIN} - [0:0]\n-X {H}\n-X {CHAIN}\nCOMMIT\n")


@pytest.mark.parametrize("allow", [
    Allow("tcp", 0, 80, ("0.0.0.0/0",)),
    Allow("tcp", 90, 80, ("0.0.0.0/0",)),
    Allow("udp", 1, 65536, ("0.0.0.0/0",)),
    Allow("icmp", 256, -1, ("0.0.0.0/0",)),
    Allow("gre", None, None, ("0.0.0.0/0",)),
    Allow("tcp", 80, 80, ("0.0.0.0/0 -j ACCEPT",)),
    Allow("tcp", 80, 80, ("10.0.0.0/33",)),
    Allow("tcp", "80", 80, ("0.0.0.0/0",)),
])
def test_values_are_validated_before_they_reach_a_rule(allow):
    with pytest.raises(InvalidValue):
        iptables.instance_rules(CHAIN, InstanceFirewall(UUID, (), (allow,)))


def test_addresses_and_bridges_are_validated():
    bad_ip = InstanceFirewall(UUID, (Address("10.236.0.5; reboot", "cptsg0", ()),), ())
    bad_bridge = InstanceFirewall(UUID, (Address("10.236.0.5", "br0 -j ACCEPT", ()),), ())
    for firewall in (bad_ip, bad_bridge):
        with pytest.raises(InvalidValue):
            iptables.render_host(HOST, [firewall])


# --- egress --------------------------------------------------------------------------------------

OUT = f"{H}-o0123456789abcde"


def web_server_with_egress(*egress):
    return InstanceFirewall(UUID, web_server().addresses, web_server().allows, egress=tuple(egress))


def test_egress_chain_name_fits_iptables_and_is_owned():
    assert iptables.egress_chain(HOST, UUID) == OUT and len(OUT) == 28
    assert iptables.chain_name(OUT) == OUT
    assert OUT != CHAIN and OUT.startswith(H + "-")
    with pytest.raises(InvalidValue):
        iptables.chain_name(OUT + "f")


def test_egress_chain_text_returns_what_is_allowed_and_drops_the_rest():
    fw = web_server_with_egress(
        Allow(None, None, None, ("0.0.0.0/0",)),
        Allow("tcp", 443, 443, ("203.0.113.0/24",)),
        Allow("udp", 53, 53, ("10.0.0.2/32",)),
        Allow("icmp", 8, 0, ("10.236.0.0/16",)),
        Allow("tcp", 5432, 5432, ("10.236.0.6/32", "10.236.0.7/32")),  # a remote group's members
    )
    assert iptables.egress_rules(OUT, fw) == [
        f"-A {OUT} -m conntrack --ctstate INVALID -j DROP",
        f"-A {OUT} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {OUT} -d 10.236.0.1/32 -p udp -m udp --sport 68 --dport 67 -j RETURN",
        f"-A {OUT} -d 0.0.0.0/0 -j RETURN",
        f"-A {OUT} -d 203.0.113.0/24 -p tcp -m tcp --dport 443 -j RETURN",
        f"-A {OUT} -d 10.0.0.2/32 -p udp -m udp --dport 53 -j RETURN",
        f"-A {OUT} -d 10.236.0.0/16 -p icmp -m icmp --icmp-type 8/0 -j RETURN",
        f"-A {OUT} -d 10.236.0.6/32 -p tcp -m tcp --dport 5432 -j RETURN",
        f"-A {OUT} -d 10.236.0.7/32 -p tcp -m tcp --dport 5432 -j RETURN",
        f"-A {OUT} -j DROP",
    ]
    # the ingress chain is exactly what it was without egress
    assert iptables.instance_rules(CHAIN, fw) == iptables.instance_rules(CHAIN, web_server())


def test_no_egress_rule_sends_nothing_but_dhcp_and_replies():
    fw = InstanceFirewall(UUID, (Address("10.236.0.5", "cptsg0", ("10.236.0.1",)),), (), egress=())
    assert iptables.render_instance(HOST, fw) == "\n".join([
        "*filter",
        f":{CHAIN} - [0:0]",
        f":{OUT} - [0:0]",
        f"-A {CHAIN} -m conntrack --ctstate INVALID -j DROP",
        f"-A {CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        f"-A {CHAIN} -s 10.236.0.1/32 -p udp -m udp --sport 67 --dport 68 -j ACCEPT",
        f"-A {CHAIN} -j DROP",
        f"-A {OUT} -m conntrack --ctstate INVALID -j DROP",
        f"-A {OUT} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {OUT} -d 10.236.0.1/32 -p udp -m udp --sport 68 --dport 67 -j RETURN",
        f"-A {OUT} -j DROP",
        "COMMIT",
        "",
    ])


def test_host_chain_checks_the_senders_egress_before_the_receivers_ingress():
    second = InstanceFirewall("fedcba98765432100123456789abcdef",
                              (Address("10.236.0.9", "cptsg0", ("10.236.0.1",)),), (), egress=())
    first = web_server_with_egress(Allow(None, None, None, ("0.0.0.0/0",)))
    lines = iptables.render_host(HOST, [first, second]).splitlines()
    second_in, second_out = f"{H}-fedcba9876543210", f"{H}-ofedcba987654321"
    assert lines[1:6] == [f":{H} - [0:0]", f":{CHAIN} - [0:0]", f":{OUT} - [0:0]", f":{second_in} - [0:0]",
                          f":{second_out} - [0:0]"]
    assert lines[6:10] == [
        f"-A {H} -s 10.236.0.5/32 -i cptsg0 -j {OUT}",
        f"-A {H} -s 10.236.0.9/32 -i cptsg0 -j {second_out}",
        f"-A {H} -d 10.236.0.5/32 -o cptsg0 -j {CHAIN}",
        f"-A {H} -d 10.236.0.9/32 -o cptsg0 -j {second_in}",
    ]
    assert f"-A {second_out} -j DROP" in lines and f"-A {OUT} -d 0.0.0.0/0 -j RETURN" in lines
    # a stale egress chain of this host is deleted like an ingress one
    stale = f"{H}-o111111111111111"
    assert f"-X {stale}" in iptables.render_host(HOST, [first], remove=[stale, OUT]).splitlines()


@pytest.mark.parametrize("allow", [
    Allow("tcp", 80, 80, ("0.0.0.0/0 -j ACCEPT",)),
    Allow("udp", 0, 53, ("0.0.0.0/0",)),
    Allow("sctp", None, None, ("0.0.0.0/0",)),
    Allow("tcp", 80, 80, ("2001:db8::/32",)),
])
def test_egress_values_are_validated(allow):
    with pytest.raises(InvalidValue):
        iptables.egress_rules(OUT, InstanceFirewall(UUID, (), (), egress=(allow,)))
