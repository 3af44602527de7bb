"""Security groups and rules in the Networking API v2.0 (Neutron's `security-group`
extension) under /network/v2.0/:

    GET/POST         security-groups               list (filters, fields, paging) / create (201)
    GET/PUT/DELETE   security-groups/{id}          show / update / delete (204)
    GET/POST         security-group-rules          list / create one or a bulk (201)
    GET/DELETE       security-group-rules/{id}     show / delete (204)

Ids are the UUIDs the compute API shows too. A group embeds its rules; `stateful` is always
true, `shared` false, `tags` empty. Names are unique per project here (Neutron allows
duplicates): a second group of the same name is a 409. A project lists its groups, and its
`default` group is created on its first list (as Neutron); admins see every project's.
Errors are Neutron's (types SecurityGroupInUse, SecurityGroupCannotRemoveDefault,
SecurityGroupRuleExists, OverQuota: 409; SecurityGroupNotFound: 404; bad input: 400).
Changing rules re-applies the members' chains on their hosts (services/refresh.py).
"""
import ipaddress
from contextlib import contextmanager

from django.db.models import Prefetch
from rest_framework.response import Response

from cloudproj.api.neutron import (NeutronAPIView, NeutronError, bad_request, conflict, list_response,
                                   not_found, show_response, timestamp)
from identity.services.policy import enforce

from ..models import SecurityGroup, SecurityGroupRule
from ..services import GroupExists, RuleExists, SecurityGroupInUse, SecurityGroupNotFound, SystemGroup
from ..services import groups as group_service
from ..services import rules as rule_service

GROUP_FIELDS = {"name", "description", "project_id", "tenant_id", "stateful", "tags"}
GROUP_UPDATE_FIELDS = {"name", "description", "stateful"}
RULE_FIELDS = {"security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
               "remote_ip_prefix", "remote_group_id", "remote_address_group_id", "description", "project_id",
               "tenant_id"}


def _prefix_matches(item: dict, wanted: list[str]) -> bool:
    """remote_ip_prefix=10.1.0.0/16 finds the rule written 10.1.2.3/16 (the same network)."""
    mine = item.get("normalized_cidr")
    for value in wanted:
        try:
            if mine is not None and str(ipaddress.ip_network(value, strict=False)) == mine:
                return True
        except ValueError:
            pass
        if value == item.get("remote_ip_prefix"):
            return True
    return False


# --- rendering -----------------------------------------------------------------------------------


def rule_resource(rule: SecurityGroupRule, group: SecurityGroup | None = None) -> dict:
    group = group or rule.parent_group
    icmp_any = rule.protocol == "icmp"
    low = None if icmp_any and rule.from_port == -1 else rule.from_port
    high = None if icmp_any and (rule.to_port == -1 or low is None) else rule.to_port
    return {
        "id": str(rule.uuid),
        "security_group_id": str(group.uuid),
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "protocol": rule.protocol,
        "port_range_min": low,
        "port_range_max": high,
        "remote_ip_prefix": rule.cidr,
        "normalized_cidr": rule.network,
        "remote_group_id": str(rule.group.uuid) if rule.group_id else None,
        "remote_address_group_id": None,
        "description": rule.description,
        "project_id": group.project_id,
        "tenant_id": group.project_id,
        "created_at": timestamp(rule.created_at),
        "updated_at": timestamp(rule.updated_at),
        "revision_number": 0,
        "tags": [],
    }


def group_resource(group: SecurityGroup) -> dict:
    return {
        "id": str(group.uuid),
        "name": group.name,
        "description": group.description,
        "project_id": group.project_id,
        "tenant_id": group.project_id,
        "security_group_rules": [rule_resource(rule, group) for rule in group.rules.all()],
        "stateful": True,
        "shared": False,
        "tags": [],
        "created_at": timestamp(group.created_at),
        "updated_at": timestamp(group.updated_at),
        "revision_number": group.revision_number,
    }


def with_rules(groups):
    rules = SecurityGroupRule.objects.select_related("group").order_by("id")
    return groups.prefetch_related(Prefetch("rules", queryset=rules))


# --- errors --------------------------------------------------------------------------------------


@contextmanager
def neutron_errors(update: bool = False):
    """The service's errors under Neutron's names and statuses."""
    try:
        yield
    except SecurityGroupInUse as exc:
        raise conflict(exc.message, "SecurityGroupInUse") from None
    except SystemGroup:
        if update:
            raise conflict("Updating default security group not allowed.", "SecurityGroupCannotUpdateDefault") \
                from None
        raise conflict("Insufficient rights for removing default security group.",
                       "SecurityGroupCannotRemoveDefault") from None
    except RuleExists as exc:
        raise conflict(exc.message, "SecurityGroupRuleExists") from None
    except GroupExists as exc:
        raise conflict(exc.message, "SecurityGroupExists") from None


# --- views ---------------------------------------------------------------------------------------


class SecurityGroupAPIView(NeutronAPIView):
    def scope(self) -> str | None:
        """The project whose resources the caller sees; None for admins (every project)."""
        return None if self.ctx.is_admin else self.own_project()

    def own_project(self) -> str:
        if not self.ctx.project_id:
            raise bad_request("A project-scoped token is required for security groups.")
        return self.ctx.project_id

    def target_project(self, data: dict) -> str:
        """The project of a new resource: the caller's, or another one for admins."""
        wanted = {data[k] for k in ("project_id", "tenant_id") if data.get(k) not in (None, "")}
        if len(wanted) > 1:
            raise bad_request("project_id and tenant_id do not match")
        own = self.ctx.project_id
        project_id = wanted.pop() if wanted else own
        if not project_id:
            raise bad_request("A project-scoped token (or project_id) is required for security groups.")
        if project_id != own and not self.ctx.is_admin:
            raise bad_request("Specifying 'project_id' or 'tenant_id' other than the authenticated project in "
                              "request requires admin privileges")
        return project_id

    def group(self, group_id, action: str) -> SecurityGroup:
        try:
            group = group_service.get_group(group_id, self.scope())
        except SecurityGroupNotFound:
            raise not_found(f"Security group {group_id} does not exist", "SecurityGroupNotFound") from None
        enforce(self.ctx, action, {"project_id": group.project_id})
        return group

    def render_group(self, group) -> dict:
        return group_resource(with_rules(SecurityGroup.objects.filter(pk=group.pk)).get())


class SecurityGroupCollection(SecurityGroupAPIView):
    def get(self, request):
        ctx = self.ctx
        scope = self.scope()
        enforce(ctx, "network:security_groups:list", {"project_id": ctx.project_id})
        if ctx.project_id:
            group_service.ensure_default(ctx.project_id)
        rows = SecurityGroup.objects.order_by("id")
        if scope is not None:
            rows = rows.filter(project_id=scope)
        return list_response(request, "security_groups", [group_resource(g) for g in with_rules(rows)])

    def post(self, request):
        data = self.body("security_group", GROUP_FIELDS)
        if data.get("stateful", True) is not True:
            raise bad_request("Only stateful security groups are supported by this cloud.")
        if data.get("tags"):
            raise bad_request("Tags on security groups are not supported by this cloud.")
        project_id = self.target_project(data)
        enforce(self.ctx, "network:security_groups:create", {"project_id": project_id})
        with neutron_errors():
            group = group_service.create_group(project_id, data.get("name"), data.get("description"))
        return Response({"security_group": self.render_group(group)}, status=201)


class SecurityGroupItem(SecurityGroupAPIView):
    def get(self, request, group_id):
        group = self.group(group_id, "network:security_groups:show")
        return show_response(request, "security_group", self.render_group(group))

    def put(self, request, group_id):
        data = self.body("security_group", GROUP_UPDATE_FIELDS)
        if data.get("stateful", True) is not True:
            raise bad_request("Only stateful security groups are supported by this cloud.")
        group = self.group(group_id, "network:security_groups:update")
        with neutron_errors(update=True):
            group = group_service.update_group(group, name=data.get("name"), description=data.get("description"))
        return Response({"security_group": self.render_group(group)})

    def delete(self, request, group_id):
        group = self.group(group_id, "network:security_groups:delete")
        with neutron_errors():
            group_service.delete_group(group, allow_default=self.ctx.is_admin)
        return Response(status=204)


class RuleCollection(SecurityGroupAPIView):
    def get(self, request):
        enforce(self.ctx, "network:security_group_rules:list", {"project_id": self.ctx.project_id})
        scope = self.scope()
        rows = SecurityGroupRule.objects.select_related("parent_group", "group").order_by("id")
        if scope is not None:
            rows = rows.filter(parent_group__project_id=scope)
        return list_response(request, "security_group_rules", [rule_resource(r) for r in rows],
                             {"remote_ip_prefix": _prefix_matches})

    def post(self, request):
        data = request.data
        if isinstance(data, dict) and "security_group_rules" in data:
            bodies = data["security_group_rules"]
            if not isinstance(bodies, list) or not bodies or not all(isinstance(b, dict) for b in bodies):
                raise bad_request("Resource body required: 'security_group_rules' must be a non-empty list of "
                                  "objects.")
            many = True
        else:
            bodies, many = [self.body("security_group_rule", RULE_FIELDS, required={"security_group_id"})], False
        items = []
        for body in bodies:
            unknown = sorted(set(body) - RULE_FIELDS)
            if unknown:
                raise bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
            if "security_group_id" not in body:
                raise bad_request("Failed to parse request. Required attribute 'security_group_id' not specified")
            if body.get("remote_address_group_id") is not None:
                raise bad_request("Address groups are not supported by this cloud.")
            parent = self.group(body["security_group_id"], "network:security_group_rules:create")
            named = body.get("project_id") or body.get("tenant_id")
            if named and self.target_project(body) != parent.project_id:
                raise bad_request("The rule's project_id must be its security group's.")
            items.append((parent, body))
        with neutron_errors():
            try:
                created = rule_service.create_rule_batch(items)
            except SecurityGroupNotFound as exc:  # a remote group that does not exist
                raise not_found(exc.message, "SecurityGroupNotFound") from None
        ids = [rule.pk for rule in created]
        rows = {r.pk: r for r in SecurityGroupRule.objects.select_related("parent_group", "group").filter(pk__in=ids)}
        rendered = [rule_resource(rows[pk]) for pk in ids]
        if many:
            return Response({"security_group_rules": rendered}, status=201)
        return Response({"security_group_rule": rendered[0]}, status=201)


class RuleItem(SecurityGroupAPIView):
    def rule(self, rule_id, action: str) -> SecurityGroupRule:
        try:
            rule = rule_service.get_rule(rule_id, self.scope())
        except SecurityGroupNotFound:
            raise not_found(f"Security group rule {rule_id} does not exist", "SecurityGroupRuleNotFound") from None
        enforce(self.ctx, action, {"project_id": rule.parent_group.project_id})
        return rule

    def get(self, request, rule_id):
        return show_response(request, "security_group_rule",
                             rule_resource(self.rule(rule_id, "network:security_group_rules:show")))

    def put(self, request, rule_id):
        raise NeutronError(405, "HTTPMethodNotAllowed", "Security group rules cannot be updated.")

    def delete(self, request, rule_id):
        rule = self.rule(rule_id, "network:security_group_rules:delete")
        try:
            rule_service.delete_rule(rule)
        except SecurityGroupNotFound:
            raise not_found(f"Security group rule {rule_id} does not exist", "SecurityGroupRuleNotFound") from None
        return Response(status=204)


__all__ = ["SecurityGroupCollection", "SecurityGroupItem", "RuleCollection", "RuleItem"]
