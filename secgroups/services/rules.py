"""Security group rules: validated as nova-network does, created and deleted, and the
members of the group told to re-apply their chains.

A rule allows inbound traffic from a source: a CIDR (IPv4; 0.0.0.0/0 when none is given)
or the members of a source group of the same project. With a CIDR, protocol and ports are
required; a source-group rule without protocol and ports allows every protocol.
tcp/udp ports are 1-65535 with from_port <= to_port; icmp takes type and code in -1..255
(-1: any). Quota `security_group_rules` is per group (Nova's meaning).
"""
import ipaddress
import logging

from django.db import transaction

from identity.services import quotas

from ..models import PROTOCOLS, SecurityGroup, SecurityGroupRule
from . import InvalidSecurityGroup, SecurityGroupNotFound, SecurityGroupOverQuota, refresh
from .groups import parse_id

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
    try:
        return str(ipaddress.IPv4Network(value.strip(), strict=False))
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
        key = parse_id(group_id)
        source = SecurityGroup.objects.filter(pk=key, project_id=parent.project_id).first() if key else None
        if source is None:
            raise InvalidSecurityGroup(f"Security group {group_id} not found.")
        low, high = parse_ports(protocol, from_port, to_port)
        return {"protocol": protocol, "from_port": low, "to_port": high, "cidr": None, "group": source}
    if protocol is None:
        raise InvalidSecurityGroup("Not enough parameters to build a valid rule: ip_protocol is required "
                                   "with a cidr.")
    low, high = parse_ports(protocol, from_port, to_port)
    return {"protocol": protocol, "from_port": low, "to_port": high, "cidr": parse_cidr(cidr), "group": None}


def create_rule(parent: SecurityGroup, **values) -> SecurityGroupRule:
    fields = build_rule(parent, **values)
    with transaction.atomic():
        group = SecurityGroup.objects.select_for_update().filter(pk=parent.pk).first()
        if group is None:
            raise SecurityGroupNotFound(f"Security group {parent.pk} not found.")
        if group.rules.filter(**fields).exists():
            raise InvalidSecurityGroup(f"This rule already exists in group {group.pk}.")
        try:
            quotas.check_absolute(group.project_id, {"security_group_rules": group.rules.count() + 1})
        except quotas.OverQuota:
            raise SecurityGroupOverQuota("Quota exceeded, too many security group rules.") from None
        rule = SecurityGroupRule.objects.create(parent_group=group, **fields)
        refresh.send(refresh.members_of([group.pk]))
    log.info("security group rule %s added to group %s", rule.pk, group.pk)
    return rule


def get_rule(rule_id, project_id: str | None = None) -> SecurityGroupRule:
    key = parse_id(rule_id)
    rows = SecurityGroupRule.objects.select_related("parent_group", "group")
    rows = rows.filter(pk=key) if key is not None else rows.none()
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
            raise SecurityGroupNotFound(f"Security group rule {rule.pk} not found.")
        refresh.send(refresh.members_of([rule.parent_group_id]))
    log.info("security group rule %s removed from group %s", rule.pk, rule.parent_group_id)

