"""Keystone's implied roles: PUT/GET/HEAD/DELETE /v3/roles/{prior}/implies/{implied},
GET /v3/roles/{prior}/implies and GET /v3/role_inferences."""
from rest_framework.response import Response

from cloudproj.api.errors import Forbidden, NotFound

from identity.services import role_rules
from identity.services.policy import enforce
from ..models import Role, RoleInference
from .common import IdentityView, get_role


def _role_ref(role: Role, v3: str) -> dict:
    return {"id": role.id, "name": role.name, "links": {"self": f"{v3}/roles/{role.id}"}}


class RoleInferenceView(IdentityView):
    def _rule(self, action: str, prior_role_id: str, implied_role_id: str):
        enforce(self.ctx, action)
        prior, implied = get_role(prior_role_id), get_role(implied_role_id)
        rule = RoleInference.objects.filter(prior_role=prior, implied_role=implied).first()
        return prior, implied, rule

    def _missing(self, prior_role_id, implied_role_id):
        return NotFound(f"{prior_role_id} does not imply {implied_role_id}.")

    def _body(self, prior: Role, implied: Role) -> dict:
        v3 = self.v3_url()
        return {"role_inference": {"prior_role": _role_ref(prior, v3), "implies": _role_ref(implied, v3)},
                "links": {"self": f"{v3}/roles/{prior.id}/implies/{implied.id}"}}

    def put(self, request, prior_role_id, implied_role_id):
        prior, implied, _rule = self._rule("identity:create_implied_role", prior_role_id, implied_role_id)
        try:
            role_rules.create_inference(prior, implied)
        except role_rules.RuleRefused as exc:
            raise Forbidden(str(exc)) from None
        return Response(self._body(prior, implied), status=201)

    def get(self, request, prior_role_id, implied_role_id):
        prior, implied, rule = self._rule("identity:get_implied_role", prior_role_id, implied_role_id)
        if rule is None:
            raise self._missing(prior_role_id, implied_role_id)
        return Response(self._body(prior, implied))

    def head(self, request, prior_role_id, implied_role_id):
        _prior, _implied, rule = self._rule("identity:check_implied_role", prior_role_id, implied_role_id)
        if rule is None:
            raise self._missing(prior_role_id, implied_role_id)
        return Response(status=204)

    def delete(self, request, prior_role_id, implied_role_id):
        _prior, _implied, rule = self._rule("identity:delete_implied_role", prior_role_id, implied_role_id)
        if rule is None:
            raise self._missing(prior_role_id, implied_role_id)
        rule.delete()
        return Response(status=204)


def _inference(prior: Role, implied: list[Role], v3: str) -> dict:
    return {"prior_role": _role_ref(prior, v3), "implies": [_role_ref(role, v3) for role in implied]}


class RoleImpliesListView(IdentityView):
    """The rules of one prior role (direct ones only, as Keystone lists them)."""

    def get(self, request, prior_role_id):
        enforce(self.ctx, "identity:list_implied_roles")
        prior = get_role(prior_role_id)
        implied = Role.objects.filter(implied_by_rules__prior_role=prior).order_by("name")
        v3 = self.v3_url()
        return Response({"role_inference": _inference(prior, list(implied), v3),
                         "links": {"self": f"{v3}/roles/{prior.id}/implies"}})

    head = get


class RoleInferencesView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_role_inference_rules")
        by_prior: dict[str, tuple[Role, list[Role]]] = {}
        for rule in RoleInference.objects.select_related("prior_role", "implied_role"):
            by_prior.setdefault(rule.prior_role_id, (rule.prior_role, []))[1].append(rule.implied_role)
        v3 = self.v3_url()
        body = [_inference(prior, implied, v3) for prior, implied in by_prior.values()]
        return Response({"role_inferences": body, "links": {"self": f"{v3}/role_inferences"}})
