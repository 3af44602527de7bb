"""Security group rules: validated as nova-network does (build_rule, the compute API) or as
Neutron does (build_neutron_rule, the Networking API), created (one or a bulk, all or
nothing) and deleted, and the members of the group told to re-apply their chains.

Compute API: a rule allows inbound traffic from a source: a CIDR (IPv4; 0.0.0.0/0 when none
is given) or the members of a source group of the same project. With a CIDR, protocol and
ports are required; a source-group rule without protocol and ports allows every protocol.
tcp/udp ports are 1-65535 with from_port <= to_port; icmp takes type and code in -1..255
(-1: any).

Networking API: direction ingress/egress, ethertype IPv4 (IPv6 is refused until this cloud
has IPv6), protocol tcp/udp/icmp or their numbers 6/17/1 or null/"any" (every protocol),
port_range_min/max (icmp: type and code), remote_ip_prefix (a CIDR, normalized) or
remote_group_id. No remote: any address.

Quota `security_group_rules` is per group (Nova's meaning); the Networking API's
`security_group_rule` quota is the same number.
"""
import ipaddress
import logging

from django.db import transaction

from identity.services import quotas

from ..models import DIRECTIONS, INGRESS, IPV4, PROTOCOLS, SecurityGroup, SecurityGroupRule
from . import InvalidSecurityGroup, RuleExists, SecurityGroupNotFound, SecurityGroupOverQuota, refresh
from .groups import bump_revision, id_filter, validate_text

log = logging.getLogger(__name__)

ANY_CIDR = "0.0.0.0/0"


def _port(value, field: str) -> int:
    if isinstance(value, bool):
        raise InvalidSecurityGroup(f"Invalid port range: {field} must be an integer.")
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and text.count("-") <= 1 and len(text) <= 6:
            value = int(text)
    if not isinstance(value, int):
        raise InvalidSecurityGroup(f"Invalid port range: {field} must be an integer.")
    return value


def parse_protocol(value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value.strip().lower() not in PROTOCOLS:
        raise InvalidSecurityGroup(f"Invalid IP protocol {value}: use tcp, udp or icmp.")
    return value.strip().lower()


def parse_cidr(value) -> str:
    if value in (None, ""):
        return ANY_CIDR
    if not isinstance(value, str) or "/" not in value:
        raise InvalidSecurityGroup(f"Invalid cidr {value}: an IPv4 network such as 10.0.0.0/24 is required.")
    try:  # kept as written (10.2.3.124/24), canonically spelt; SecurityGroupRule.network masks it
        return str(ipaddress.IPv4Interface(value.strip()))
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
        raise InvalidSecurityGroup(f"Invalid cidr {value}: an IPv4 network such as 10.0.0.0/24 is required.") from None


def parse_ports(protocol: str | None, from_port, to_port) -> tuple[int | None, int | None]:
    """(from_port, to_port) checked for `protocol`; (None, None) for an any-protocol rule."""
    if protocol is None:
        if from_port not in (None, "") or to_port not in (None, ""):
            raise InvalidSecurityGroup("Not enough parameters to build a valid rule: ports need ip_protocol.")
        return None, None
    if from_port in (None, "") or to_port in (None, ""):
        raise InvalidSecurityGroup("Not enough parameters to build a valid rule: from_port and to_port are required.")
    low, high = _port(from_port, "from_port"), _port(to_port, "to_port")
    if protocol == "icmp":
        if not (-1 <= low <= 255 and -1 <= high <= 255):
            raise InvalidSecurityGroup(f"Invalid port range {low}:{high}. For ICMP, the type:code must be valid "
                                       "(-1 to 255).")
        return low, high
    if low > high:
        raise InvalidSecurityGroup(f"Invalid port range {low}:{high}. Former value cannot be greater than the later.")
    if low < 1 or high > 65535:
        raise InvalidSecurityGroup(f"Invalid port range {low}:{high}. Valid {protocol.upper()} ports should be "
                                   "between 1-65535.")
    return low, high


def build_rule(parent: SecurityGroup, ip_protocol=None, from_port=None, to_port=None, cidr=None,
               group_id=None) -> dict:
    """The validated field values of a new rule in `parent` (not saved)."""
    protocol = parse_protocol(ip_protocol)
    if group_id not in (None, ""):
        key = id_filter(group_id)
        source = SecurityGroup.objects.filter(**key, project_id=parent.project_id).first() if key else None
        if source is None:
            raise InvalidSecurityGroup(f"Security group {group_id} not found.")
        low, high = parse_ports(protocol, from_port, to_port)
        return {"direction": INGRESS, "protocol": protocol, "from_port": low, "to_port": high, "cidr": None,
                "group": source}
    if protocol is None:
        raise InvalidSecurityGroup("Not enough parameters to build a valid rule: ip_protocol is required "
                                   "with a cidr.")
    low, high = parse_ports(protocol, from_port, to_port)
    return {"direction": INGRESS, "protocol": protocol, "from_port": low, "to_port": high, "cidr": parse_cidr(cidr),
            "group": None}


# --- the Networking API's rules ------------------------------------------------------------------

PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp"}
ANY_PROTOCOL = ("any", "0")
IPV6_REFUSED = "IPv6 is not supported by this cloud: only IPv4 security group rules can be created."


def neutron_protocol(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidSecurityGroup(f"Security group rule protocol {value!r} not supported.")
    text = value.strip().lower()
    if text in ANY_PROTOCOL:
        return None
    if text in PROTOCOLS:
        return text
    if text in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[text]
    if text in ("icmpv6", "ipv6-icmp", "58"):
        raise InvalidSecurityGroup(IPV6_REFUSED)
    raise InvalidSecurityGroup(f"Security group rule protocol {value} not supported. Only protocol values "
                               "[null, any, tcp, udp, icmp] and integer representations [1, 6, 17] are supported.")


def _neutron_port(value, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 5:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSecurityGroup(f"Invalid input for {field}. Reason: '{value}' is not an integer.")
    return value


def neutron_ports(protocol: str | None, low, high) -> tuple[int | None, int | None]:
    """(from_port, to_port) as Neutron validates port_range_min/max: tcp/udp ports 1-65535
    (both or min alone, min <= max; none: every port), icmp type 0-255 and code 0-255 (code
    only with a type)."""
    low, high = _neutron_port(low, "port_range_min"), _neutron_port(high, "port_range_max")
    if protocol is None:
        if low is not None or high is not None:
            raise InvalidSecurityGroup("Must also specify protocol if port range is given.")
        return None, None
    if protocol == "icmp":
        for value, field in ((low, "type"), (high, "code")):
            if value is not None and not 0 <= value <= 255:
                raise InvalidSecurityGroup(f"Invalid value for ICMP {field} {value}: it must be 0 to 255.")
        if low is None and high is not None:
            raise InvalidSecurityGroup(f"ICMP code (port-range-max) {high} is provided but ICMP type "
                                       "(port-range-min) is missing.")
        return low, high
    if low is None and high is not None:
        raise InvalidSecurityGroup("For TCP/UDP protocols, port_range_min must be <= port_range_max")
    if low is None:
        return None, None
    high = low if high is None else high
    for value in (low, high):
        if not 1 <= value <= 65535:
            raise InvalidSecurityGroup(f"Invalid value for port {value}")
    if low > high:
        raise InvalidSecurityGroup("For TCP/UDP protocols, port_range_min must be <= port_range_max")
    return low, high


def neutron_prefix(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidSecurityGroup(f"Invalid input for remote_ip_prefix. Reason: '{value}' is not a valid IP subnet.")
    try:
        prefix = ipaddress.ip_interface(value.strip())
    except ValueError:
        raise InvalidSecurityGroup(f"Invalid input for remote_ip_prefix. Reason: '{value}' is not a valid IP "
                                   "subnet.") from None
    if prefix.version == 6:
        raise InvalidSecurityGroup(IPV6_REFUSED)
    return str(prefix)  # as written; normalized_cidr is its network


def build_neutron_rule(parent: SecurityGroup, data: dict) -> dict:
    """The validated field values of a new rule from a Networking API body (not saved)."""
    direction = data.get("direction")
    if direction not in DIRECTIONS:
        raise InvalidSecurityGroup(f"Invalid input for direction. Reason: '{direction}' is not in "
                                   f"{list(DIRECTIONS)}.")
    ethertype = data.get("ethertype", IPV4)
    if ethertype == "IPv6":
        raise InvalidSecurityGroup(IPV6_REFUSED)
    if ethertype not in (IPV4, None):
        raise InvalidSecurityGroup(f"Invalid input for ethertype. Reason: '{ethertype}' is not in ['IPv4', 'IPv6'].")
    protocol = neutron_protocol(data.get("protocol"))
    low, high = neutron_ports(protocol, data.get("port_range_min"), data.get("port_range_max"))
    cidr = neutron_prefix(data.get("remote_ip_prefix"))
    remote_id = data.get("remote_group_id")
    source = None
    if remote_id is not None:
        if cidr is not None:
            raise InvalidSecurityGroup("Only remote_ip_prefix or remote_group_id may be provided.")
        key = id_filter(remote_id)
        source = SecurityGroup.objects.filter(**key, project_id=parent.project_id).first() if key else None
        if source is None:
            raise SecurityGroupNotFound(f"Security group {remote_id} does not exist")
    description = data.get("description") or ""
    if description:
        description = validate_text(description, "rule description")
    return {"direction": direction, "protocol": protocol, "from_port": low, "to_port": high, "cidr": cidr,
            "group": source, "description": description}


def _same(fields: dict) -> dict:
    """The lookup of an identical rule (no remote and 0.0.0.0/0 are the same remote)."""
    lookup = {k: v for k, v in fields.items() if k not in ("description", "cidr")}
    return lookup


def _duplicate(group: SecurityGroup, fields: dict, pending=()) -> SecurityGroupRule | None:
    def network(cidr):  # the same network written two ways is the same rule
        return str(ipaddress.ip_network(cidr, strict=False)) if cidr else ANY_CIDR

    def cidr_matches(cidr):
        if fields["group"] is not None:
            return cidr == fields["cidr"]
        return network(cidr) == network(fields["cidr"])

    for rule in list(group.rules.filter(**_same(fields))) + list(pending):
        if all(getattr(rule, k) == v for k, v in _same(fields).items()) and cidr_matches(rule.cidr):
            return rule
    return None


def create_rules(parent: SecurityGroup, many: list[dict]) -> list[SecurityGroupRule]:
    """Validated field dicts saved as rules of `parent`, all or none; members told once."""
    with transaction.atomic():
        group = SecurityGroup.objects.select_for_update().filter(pk=parent.pk).first()
        if group is None:
            raise SecurityGroupNotFound(f"Security group {parent.uuid} not found.")
        created: list[SecurityGroupRule] = []
        for fields in many:
            same = _duplicate(group, fields, created)
            if same is not None:
                raise RuleExists(f"Security group rule already exists. Rule id is {same.uuid}.")
            try:
                quotas.check_absolute(group.project_id,
                                      {"security_group_rules": group.rules.count() + 1})
            except quotas.OverQuota:
                raise SecurityGroupOverQuota("Quota exceeded, too many security group rules.") from None
            created.append(SecurityGroupRule.objects.create(parent_group=group, **fields))
        bump_revision(group.pk)
        refresh.send(refresh.members_of([group.pk]))
    for rule in created:
        log.info("security group rule %s (%s) added to group %s", rule.uuid, rule.direction, group.uuid)
    return created


def create_rule_batch(items: list[tuple[SecurityGroup, dict]]) -> list[SecurityGroupRule]:
    """A Networking API bulk create: every (group, body) validated first, then all rules
    created in one transaction (one bad or duplicate rule: none is created)."""
    built = [(parent, build_neutron_rule(parent, data)) for parent, data in items]
    created: list[SecurityGroupRule] = []
    with transaction.atomic():
        for parent, fields in built:
            created += create_rules(parent, [fields])
    return created


def create_rule(parent: SecurityGroup, **values) -> SecurityGroupRule:
    """A compute API rule (ingress)."""
    try:
        return create_rules(parent, [build_rule(parent, **values)])[0]
    except RuleExists:
        raise RuleExists(f"This rule already exists in group {parent.uuid}.") from None


def get_rule(rule_id, project_id: str | None = None) -> SecurityGroupRule:
    key = id_filter(rule_id)
    rows = SecurityGroupRule.objects.select_related("parent_group", "group")
    rows = rows.filter(**key) if key is not None else rows.none()
    if project_id is not None:
        rows = rows.filter(parent_group__project_id=project_id)
    rule = rows.first()
    if rule is None:
        raise SecurityGroupNotFound(f"Security group rule {rule_id} not found.")
    return rule


def delete_rule(rule: SecurityGroupRule) -> None:
    with transaction.atomic():
        deleted, _ = SecurityGroupRule.objects.filter(pk=rule.pk).delete()
        if not deleted:
            raise SecurityGroupNotFound(f"Security group rule {rule.uuid} not found.")
        bump_revision(rule.parent_group_id)
        refresh.send(refresh.members_of([rule.parent_group_id]))
    log.info("security group rule %s removed from group %s", rule.pk, rule.parent_group_id)

