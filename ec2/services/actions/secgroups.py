"""Security groups: Create/Describe/DeleteSecurityGroup and Authorize/RevokeSecurityGroupIngress
(the classic single-rule form and the IpPermissions form) over secgroups.services (the same
groups and rules as the compute API's os-security-groups and the Networking API)."""
from cloudproj.exceptions import CloudError
from ec2.services import filters, ids
from ec2.services.errors import Ec2Error, from_cloud_error
from ec2.services.params import Params
from identity.services.policy import enforce
from secgroups.models import EGRESS, INGRESS, SecurityGroup, SecurityGroupRule
from secgroups.services import (GroupExists, RuleExists, SecurityGroupInUse, SecurityGroupOverQuota, SystemGroup,
                                groups, rules)


def _not_found(value) -> Ec2Error:
    return Ec2Error("InvalidGroup.NotFound", f"The security group '{str(value)[:255]}' does not exist")


def _group(ctx, p: Params) -> SecurityGroup:
    group_id = p.text("GroupId", max_length=64)
    name = p.text("GroupName")
    if group_id is None and name is None:
        raise Ec2Error("MissingParameter", "The request must contain the parameter GroupName or GroupId")
    groups.ensure_default(ctx.project_id)
    rows = SecurityGroup.objects.filter(project_id=ctx.project_id)
    if group_id is not None:
        row = rows.filter(pk=ids.key_of(group_id, "sg")).first()
    else:
        row = rows.filter(name=name).first()
    if row is None:
        raise _not_found(group_id or name)
    return row


def _protocol(rule: SecurityGroupRule) -> str:
    return rule.protocol or "-1"


def _permissions(group: SecurityGroup, direction: str) -> list[dict]:
    merged: dict = {}
    for rule in group.rules.filter(direction=direction).select_related("group").order_by("id"):
        key = (_protocol(rule), rule.from_port, rule.to_port)
        entry = merged.setdefault(key, {"ipProtocol": key[0], "fromPort": rule.from_port, "toPort": rule.to_port,
                                        "groups": [], "ipRanges": [], "ipv6Ranges": [], "prefixListIds": []})
        if rule.group is not None:
            entry["groups"].append({"userId": rule.group.project_id, "groupId": ids.ec2_id("sg", rule.group.pk),
                                    "groupName": rule.group.name})
        else:
            entry["ipRanges"].append({"cidrIp": rule.cidr or rules.ANY_CIDR})
    return list(merged.values())


def _item(group: SecurityGroup) -> dict:
    return {
        "ownerId": group.project_id, "groupId": ids.ec2_id("sg", group.pk), "groupName": group.name,
        "groupDescription": group.description, "ipPermissions": _permissions(group, INGRESS),
        "ipPermissionsEgress": _permissions(group, EGRESS), "tagSet": [],
    }


FILTERS = {
    "group-name": lambda g: g.name,
    "group-id": lambda g: ids.ec2_id("sg", g.pk),
    "description": lambda g: g.description,
    "owner-id": lambda g: g.project_id,
    "ip-permission.protocol": lambda g: [_protocol(r) for r in g.rules.filter(direction=INGRESS)],
    "ip-permission.cidr": lambda g: [r.cidr for r in g.rules.filter(direction=INGRESS) if r.cidr],
    "ip-permission.from-port": lambda g: [str(r.from_port) for r in g.rules.filter(direction=INGRESS)],
    "ip-permission.to-port": lambda g: [str(r.to_port) for r in g.rules.filter(direction=INGRESS)],
}


def describe_security_groups(ctx, p: Params) -> dict:
    enforce(ctx, "compute:security_groups:list", {"project_id": ctx.project_id})
    groups.ensure_default(ctx.project_id)
    rows = list(SecurityGroup.objects.filter(project_id=ctx.project_id).order_by("id"))
    names = p.values("GroupName")
    group_ids = p.values("GroupId", max_length=64)
    p.integer("MaxResults", minimum=5, maximum=1000)
    p.text("NextToken", max_length=1024)
    if names:
        by_name = {g.name: g for g in rows}
        for name in names:
            if name not in by_name:
                raise _not_found(name)
        rows = [by_name[n] for n in dict.fromkeys(names)]
    if group_ids:
        by_id = {ids.ec2_id("sg", g.pk): g for g in rows}
        for value in group_ids:
            ids.key_of(value, "sg")
            if value not in by_id:
                raise _not_found(value)
        rows = [by_id[v] for v in dict.fromkeys(group_ids)]
    requested = p.filters()
    if requested:
        rows = filters.apply(rows, requested, FILTERS)
    return {"securityGroupInfo": [_item(g) for g in rows]}


def create_security_group(ctx, p: Params) -> dict:
    name = p.text("GroupName", required=True)
    description = p.text("GroupDescription", required=True)
    p.text("VpcId", max_length=64)
    enforce(ctx, "compute:security_groups:create", {"project_id": ctx.project_id})
    groups.ensure_default(ctx.project_id)
    try:
        group = groups.create_group(ctx.project_id, name, description)
    except GroupExists:
        raise Ec2Error("InvalidGroup.Duplicate", f"The security group '{name}' already exists") from None
    except SecurityGroupOverQuota as exc:
        raise Ec2Error("SecurityGroupLimitExceeded", exc.message) from None
    return {"return": True, "groupId": ids.ec2_id("sg", group.pk)}


def delete_security_group(ctx, p: Params) -> dict:
    group = _group(ctx, p)
    enforce(ctx, "compute:security_groups:delete", {"project_id": group.project_id})
    try:
        groups.delete_group(group)
    except SystemGroup as exc:
        raise Ec2Error("CannotDelete", exc.message) from None
    except SecurityGroupInUse as exc:
        raise Ec2Error("DependencyViolation", exc.message) from None
    return {"return": True, "groupId": ids.ec2_id("sg", group.pk)}


def _source(ctx, item: Params) -> SecurityGroup:
    value = item.text("GroupId", max_length=64)
    name = item.text("GroupName")
    if value is None and name is None:
        raise Ec2Error("MissingParameter", "A source group needs GroupId or GroupName")
    rows = SecurityGroup.objects.filter(project_id=ctx.project_id)
    row = rows.filter(pk=ids.key_of(value, "sg")).first() if value is not None else rows.filter(name=name).first()
    if row is None:
        raise _not_found(value or name)
    return row


def _rule_fields(group: SecurityGroup, protocol, low, high, cidr=None, source: SecurityGroup | None = None) -> dict:
    if protocol is not None and protocol.lower() in ("-1", "all"):
        protocol = None
    protocol = {"6": "tcp", "17": "udp", "1": "icmp"}.get(str(protocol), protocol)
    if protocol is None:
        # every protocol: no ports (EC2 sends none or -1)
        if source is not None:
            return rules.build_rule(group, group_id=str(source.pk))
        return {"direction": INGRESS, "protocol": None, "from_port": None, "to_port": None,
                "cidr": rules.parse_cidr(cidr), "group": None}
    if source is not None:
        return rules.build_rule(group, protocol, low, high, group_id=str(source.pk))
    return rules.build_rule(group, protocol, low, high, cidr=cidr or rules.ANY_CIDR)


def _wanted(ctx, group: SecurityGroup, p: Params) -> list[dict]:
    """The rules a request names: the classic parameters or IpPermissions.N."""
    wanted = []
    permissions = p.structs("IpPermissions")
    if permissions:
        for item in permissions:
            protocol = item.text("IpProtocol", required=True, max_length=16)
            low, high = item.integer("FromPort", minimum=-1, maximum=65535), item.integer("ToPort", minimum=-1, maximum=65535)
            ranges = [r.text("CidrIp", required=True, max_length=64) for r in item.structs("IpRanges")]
            sources = [_source(ctx, g) for g in item.structs("Groups")]
            if item.structs("Ipv6Ranges") or item.structs("PrefixListIds"):
                raise Ec2Error("InvalidParameterValue", "IPv6 ranges and prefix lists are not supported by this cloud.")
            if not ranges and not sources:
                ranges = [rules.ANY_CIDR]
            wanted += [_rule_fields(group, protocol, low, high, cidr=c) for c in ranges]
            wanted += [_rule_fields(group, protocol, low, high, source=s) for s in sources]
        return wanted
    protocol = p.text("IpProtocol", max_length=16)
    low, high = p.integer("FromPort", minimum=-1, maximum=65535), p.integer("ToPort", minimum=-1, maximum=65535)
    source_name = p.text("SourceSecurityGroupName")
    if source_name is not None:
        source = SecurityGroup.objects.filter(project_id=ctx.project_id, name=source_name).first()
        if source is None:
            raise _not_found(source_name)
        if protocol is None:
            return [rules.build_rule(group, group_id=str(source.pk))]
        return [_rule_fields(group, protocol, low, high, source=source)]
    if protocol is None:
        raise Ec2Error("MissingParameter", "The request must contain the parameter IpPermissions or IpProtocol")
    return [_rule_fields(group, protocol, low, high, cidr=p.text("CidrIp", max_length=64))]


def _rule_item(rule: SecurityGroupRule) -> dict:
    return {
        "securityGroupRuleId": "sgr-%08x" % rule.pk, "groupId": ids.ec2_id("sg", rule.parent_group_id),
        "groupOwnerId": rule.parent_group.project_id, "isEgress": rule.direction == EGRESS,
        "ipProtocol": _protocol(rule), "fromPort": rule.from_port if rule.from_port is not None else -1,
        "toPort": rule.to_port if rule.to_port is not None else -1, "cidrIpv4": rule.cidr,
        "referencedGroupInfo": {"groupId": ids.ec2_id("sg", rule.group_id)} if rule.group_id else None,
    }


def authorize_security_group_ingress(ctx, p: Params) -> dict:
    group = _group(ctx, p)
    enforce(ctx, "compute:security_group_rules:create", {"project_id": group.project_id})
    try:
        created = rules.create_rules(group, _wanted(ctx, group, p))
    except RuleExists as exc:
        raise Ec2Error("InvalidPermission.Duplicate", exc.message) from None
    except SecurityGroupOverQuota as exc:
        raise Ec2Error("RulesPerSecurityGroupLimitExceeded", exc.message) from None
    except CloudError as exc:
        raise from_cloud_error(exc) from None
    return {"return": True, "securityGroupRuleSet": [_rule_item(r) for r in created]}


def revoke_security_group_ingress(ctx, p: Params) -> dict:
    group = _group(ctx, p)
    enforce(ctx, "compute:security_group_rules:delete", {"project_id": group.project_id})
    found = []
    for fields in _wanted(ctx, group, p):
        rule = rules._duplicate(group, fields)
        if rule is None:
            raise Ec2Error("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
        found.append(rule)
    revoked = []
    for rule in dict.fromkeys(found):
        revoked.append(_rule_item(rule))
        rules.delete_rule(rule)
    return {"return": True, "revokedSecurityGroupRuleSet": revoked}
