"""Per-instance iptables chains in the filter table, and the only code of the app that
touches the host's firewall.

Ownership. Every chain written here is named `cpsg-<h>` (the chain of host H, h = 6 hex
digits of the hash of the cloud's name and H: cloudproj.host.cloud.host_digest, so several
agents and several clouds can share a machine),
`cpsg-<h>-<16 hex digits of the instance uuid>` (what may reach the instance: ingress) or
`cpsg-<h>-o<15 hex digits of the instance uuid>` (what it may send: egress; 28 characters,
iptables' limit). Outside those chains there is one jump to
the host chain at the top of FORWARD (bridged traffic to a guest: br_netfilter passes it to
iptables) and one at the top of OUTPUT (traffic the host itself sends to a guest over the
bridge). Changes are Sections written by the host's one iptables writer
(cloudproj.host.iptables: one lock, one `iptables-restore --noflush` naming only those
chains): declaring a chain flushes it, so the whole set is replaced in one transaction and
no rule of anybody else is touched. Manual changes to these chains are overwritten.

    host chain        -A cpsg-h -s <fixed ip>/32 -i <bridge> -j cpsg-h-o<instance>  (egress, per address)
                      -A cpsg-h -d <fixed ip>/32 -o <bridge> -j cpsg-h-<instance>   (ingress, per address)
    instance chain    -A c -m conntrack --ctstate INVALID -j DROP
                      -A c -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                      -A c -s <dhcp server>/32 -p udp -m udp --sport 67 --dport 68 -j ACCEPT
                      -A c -s <source> [-p tcp -m tcp --dport 80[:90]] -j ACCEPT   (per allow)
                      -A c -j DROP
    egress chain      -A e -m conntrack --ctstate INVALID -j DROP
                      -A e -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
                      -A e -d <dhcp server>/32 -p udp -m udp --sport 68 --dport 67 -j RETURN
                      -A e -d <destination> [-p tcp -m tcp --dport 80] -j RETURN   (per egress rule)
                      -A e -j DROP

Egress jumps come before ingress jumps and an allowed packet RETURNs: traffic between two
guests of the host passes the sender's egress chain, then the receiver's ingress chain.
Traffic a guest sends to its own host (DHCP, the metadata service DNATed to the host's
address) goes through INPUT, not FORWARD, so egress rules never cut those; a DHCP server on
another host is allowed explicitly. A firewall built without egress (egress None) gets no
egress chain.

Every value is validated before it reaches a rule; commands are argument lists.
"""
import ipaddress
import logging
import re
import uuid as uuid_lib

from cloudproj.host import cloud
from cloudproj.host import iptables as host_iptables
from cloudproj.host.iptables import Jump, Section
from network import validate

log = logging.getLogger(__name__)

TABLE = "filter"
PREFIX = "cpsg-"
TOP_CHAINS = ("FORWARD", "OUTPUT")
CHAIN_RE = re.compile(r"^cpsg-[0-9a-f]{6}(-[0-9a-f]{16}|-o[0-9a-f]{15})?\Z")
PORT_RANGES = {"tcp": (1, 65535), "udp": (1, 65535), "icmp": (-1, 255)}


# --- names ---------------------------------------------------------------------------------------


def host_chain(host: str) -> str:
    if not isinstance(host, str) or not host:
        raise validate.InvalidValue(f"invalid host name {host!r}")
    return PREFIX + cloud.host_digest(host)


def instance_chain(host: str, instance_uuid) -> str:
    try:
        key = uuid_lib.UUID(str(instance_uuid)).hex[:16]
    except ValueError:
        raise validate.InvalidValue(f"invalid instance uuid {instance_uuid!r}") from None
    return f"{host_chain(host)}-{key}"


def egress_chain(host: str, instance_uuid) -> str:
    try:
        key = uuid_lib.UUID(str(instance_uuid)).hex[:15]
    except ValueError:
        raise validate.InvalidValue(f"invalid instance uuid {instance_uuid!r}") from None
    return f"{host_chain(host)}-o{key}"


def chains_for(host: str, firewall) -> list[str]:
    """The instance's chains: ingress, and egress unless the firewall has no egress."""
    chains = [instance_chain(host, firewall.uuid)]
    if firewall.egress is not None:
        chains.append(egress_chain(host, firewall.uuid))
    return chains


def chain_name(name: str) -> str:
    if not isinstance(name, str) or not CHAIN_RE.match(name):
        raise validate.InvalidValue(f"invalid chain name {name!r}")
    return name


def cidr(value) -> str:
    try:
        return str(ipaddress.IPv4Network(str(value), strict=False))
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
        raise validate.InvalidValue(f"invalid IPv4 network {value!r}") from None


def _port(value, protocol: str) -> int:
    low, high = PORT_RANGES[protocol]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise validate.InvalidValue(f"invalid {protocol} port {value!r}")
    return value


# --- rendering (pure) ----------------------------------------------------------------------------


def match(allow) -> list[str]:
    """The protocol/port part of an allow rule (either direction) as iptables arguments."""
    protocol = allow.protocol
    if protocol is None:
        return []
    if protocol not in PORT_RANGES:
        raise validate.InvalidValue(f"invalid protocol {protocol!r}")
    args = ["-p", protocol]
    if protocol == "icmp":
        icmp_type = -1 if allow.from_port is None else _port(allow.from_port, "icmp")
        code = -1 if allow.to_port is None else _port(allow.to_port, "icmp")
        if icmp_type != -1:
            args += ["-m", "icmp", "--icmp-type", f"{icmp_type}/{code}" if code != -1 else str(icmp_type)]
        return args
    if allow.from_port is None and allow.to_port is None:
        return args
    low, high = _port(allow.from_port, protocol), _port(allow.to_port, protocol)
    if low > high:
        raise validate.InvalidValue(f"invalid port range {low}:{high}")
    return args + ["-m", protocol, "--dport", str(low) if low == high else f"{low}:{high}"]


def instance_rules(chain: str, firewall) -> list[str]:
    """The rules of one instance's chain, in restore syntax (`-A chain ...`)."""
    chain = chain_name(chain)
    lines = [
        f"-A {chain} -m conntrack --ctstate INVALID -j DROP",
        f"-A {chain} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    ]
    for server in sorted({validate.ipv4(server) for a in firewall.addresses for server in a.dhcp_servers}):
        lines.append(f"-A {chain} -s {server}/32 -p udp -m udp --sport 67 --dport 68 -j ACCEPT")
    for allow in firewall.allows:
        tail = " ".join(match(allow) + ["-j", "ACCEPT"])
        for source in allow.sources:
            lines.append(f"-A {chain} -s {cidr(source)} {tail}")
    lines.append(f"-A {chain} -j DROP")
    return lines


def egress_rules(chain: str, firewall) -> list[str]:
    """The rules of one instance's egress chain: an allowed packet RETURNs to the host chain
    (where the receiver's ingress chain, if it is a guest here, decides), the rest is dropped."""
    chain = chain_name(chain)
    lines = [
        f"-A {chain} -m conntrack --ctstate INVALID -j DROP",
        f"-A {chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
    ]
    for server in sorted({validate.ipv4(server) for a in firewall.addresses for server in a.dhcp_servers}):
        lines.append(f"-A {chain} -d {server}/32 -p udp -m udp --sport 68 --dport 67 -j RETURN")
    for allow in firewall.egress or ():
        tail = " ".join(match(allow) + ["-j", "RETURN"])
        for destination in allow.sources:
            lines.append(f"-A {chain} -d {cidr(destination)} {tail}")
    lines.append(f"-A {chain} -j DROP")
    return lines


def egress_jump_rules(host: str, firewall) -> list[str]:
    """The host chain's jumps to one instance's egress chain, one per fixed address."""
    if firewall.egress is None:
        return []
    top, target = host_chain(host), egress_chain(host, firewall.uuid)
    return [f"-A {top} -s {validate.ipv4(a.ip)}/32 -i {validate.ifname(a.bridge)} -j {target}"
            for a in firewall.addresses]


def chain_rules(host: str, firewall) -> list[str]:
    """The rules of all chains of one instance."""
    lines = instance_rules(instance_chain(host, firewall.uuid), firewall)
    if firewall.egress is not None:
        lines += egress_rules(egress_chain(host, firewall.uuid), firewall)
    return lines


def jump_rules(host: str, firewall) -> list[str]:
    """The host chain's jumps to one instance's chain, one per fixed address."""
    top, target = host_chain(host), instance_chain(host, firewall.uuid)
    return [f"-A {top} -d {validate.ipv4(a.ip)}/32 -o {validate.ifname(a.bridge)} -j {target}"
            for a in firewall.addresses]


def host_jumps(host: str) -> list[Jump]:
    """The jumps to the host chain from FORWARD and OUTPUT."""
    return [Jump(builtin, host_chain(host)) for builtin in TOP_CHAINS]


def host_section(host: str, firewalls, remove=()) -> Section:
    """All chains of `host`: its host chain, one chain per instance, and `remove` (stale
    chains of this host) flushed and deleted; the host chain jumped to from the top chains."""
    top = host_chain(host)
    wanted = [chain for fw in firewalls for chain in chains_for(host, fw)]
    stale = sorted({chain_name(c) for c in remove} - set(wanted) - {top})
    body = []
    for fw in firewalls:  # egress first: see the module's docstring
        body += egress_jump_rules(host, fw)
    for fw in firewalls:
        body += jump_rules(host, fw)
    for fw in firewalls:
        body += chain_rules(host, fw)
    return Section(TABLE, chains=[top, *wanted], rules=body, jumps=host_jumps(host), remove=stale)


def instance_section(host: str, firewall) -> Section:
    """One instance's chains (its jumps in the host chain are unchanged)."""
    return Section(TABLE, chains=chains_for(host, firewall), rules=chain_rules(host, firewall))


def removal_section(host: str, chains) -> Section:
    """The chains deleted, and the top chains' jumps to the host chain."""
    return Section(TABLE, remove=sorted({chain_name(c) for c in chains}), unjump=host_jumps(host))


def render_host(host: str, firewalls, remove=()) -> str:
    """iptables-restore input replacing all chains of `host` (the jumps as they are)."""
    section = host_section(host, firewalls, remove)
    return host_iptables.render([Section(TABLE, chains=section.chains, rules=section.rules, remove=section.remove)])


def render_instance(host: str, firewall) -> str:
    """iptables-restore input replacing one instance's chain (its jumps are unchanged)."""
    return host_iptables.render([instance_section(host, firewall)])


def render_removal(chains) -> str:
    return host_iptables.render([Section(TABLE, remove=sorted({chain_name(c) for c in chains}))])


# --- the host ------------------------------------------------------------------------------------


def chains_of(host: str) -> set[str]:
    """The chains of `host` that exist in the filter table now."""
    top = host_chain(host)
    return {name for name in host_iptables.chains(TABLE) if name == top or name.startswith(top + "-")}


def apply_host(host: str, firewalls, remove=()) -> None:
    """Every chain of `host` rewritten and its jumps kept exactly once, in one restore."""
    host_iptables.apply(host_section(host, firewalls, remove))


def apply_instance(host: str, firewall) -> None:
    host_iptables.apply(instance_section(host, firewall))


def remove_all(host: str, chains) -> None:
    """The host's jumps (every copy) and `chains` deleted, in one restore."""
    host_iptables.apply(removal_section(host, chains))
