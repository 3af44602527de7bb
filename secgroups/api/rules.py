"""/os-security-group-rules: create (200 with the rule) and delete (202).

Groups and rules are named by their UUID (`id` in every answer) in URLs, `parent_group_id`
and `group_id`; the old integer ids are still accepted (clients that stored one keep
working).

An unknown or another project's parent group is a 404; a malformed parent id, a bad
protocol, ports out of range, a bad CIDR or an unknown source group are 400s; more rules
than the group's quota allows is a 403.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from identity.services.policy import enforce

from ..services import groups as group_service
from ..services import rules as svc
from .groups import SecurityGroupView, project_id_of
from .parse import body
from .render import rule_dict

RULE_FIELDS = {"parent_group_id", "ip_protocol", "from_port", "to_port", "cidr", "group_id"}


class RuleCollection(SecurityGroupView):
    def post(self, request):
        data = body(self, "security_group_rule", RULE_FIELDS, required={"parent_group_id"})
        if group_service.id_filter(data["parent_group_id"]) is None:
            raise BadRequest(f"Security group id should be a UUID: {data['parent_group_id']!r}.")
        parent = self.group(data["parent_group_id"], "compute:security_group_rules:create")
        values = {k: data.get(k) for k in ("ip_protocol", "from_port", "to_port", "cidr", "group_id")}
        rule = svc.create_rule(parent, **values)
        return Response({"security_group_rule": rule_dict(rule)})


class RuleItem(SecurityGroupView):
    def delete(self, request, rule_id):
        ctx = self.ctx
        rule = svc.get_rule(rule_id, None if ctx.is_admin else project_id_of(ctx))
        enforce(ctx, "compute:security_group_rules:delete", {"project_id": rule.parent_group.project_id})
        svc.delete_rule(rule)
        return Response(status=202)
