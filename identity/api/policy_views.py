"""Keystone's /v3/policies: opaque blobs of a MIME type (stored and served, enforced by no one,
as in Keystone)."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound

from identity.services.policy import enforce
from ..models import Policy
from .common import IdentityView, checked_text

BLOB_MAX_LENGTH = 65535


def _changes(ref: dict, creating: bool) -> dict:
    changes = {}
    for field, limit in (("type", 255), ("blob", BLOB_MAX_LENGTH)):
        if field in ref:
            changes[field] = checked_text(ref[field], field, limit)
        elif creating:
            raise BadRequest(f"Invalid input for field '{field}': '{field}' is a required property.")
    return changes


def _get(policy_id: str) -> Policy:
    policy = Policy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(f"Could not find policy: {policy_id}.")
    return policy


class _PolicyView(IdentityView):
    def _body(self, policy: Policy) -> dict:
        return {"id": policy.id, "type": policy.type, "blob": policy.blob,
                "links": {"self": self.v3_url(f"/policies/{policy.id}")}}


class PolicyListView(_PolicyView):
    def get(self, request):
        enforce(self.ctx, "identity:list_policies")
        policies = Policy.objects.all()
        if request.query_params.get("type"):
            policies = policies.filter(type=request.query_params["type"])
        return Response({"policies": [self._body(p) for p in policies], "links": self.collection_links()})

    def post(self, request):
        enforce(self.ctx, "identity:create_policy")
        policy = Policy.objects.create(**_changes(self.body_object("policy"), creating=True))
        return Response({"policy": self._body(policy)}, status=201)


class PolicyDetailView(_PolicyView):
    def get(self, request, policy_id):
        enforce(self.ctx, "identity:get_policy")
        return Response({"policy": self._body(_get(policy_id))})

    def patch(self, request, policy_id):
        enforce(self.ctx, "identity:update_policy")
        policy = _get(policy_id)
        changes = _changes(self.body_object("policy"), creating=False)
        for field, value in changes.items():
            setattr(policy, field, value)
        policy.save(update_fields=list(changes) or None)
        return Response({"policy": self._body(policy)})

    def delete(self, request, policy_id):
        enforce(self.ctx, "identity:delete_policy")
        _get(policy_id).delete()
        return Response(status=204)
