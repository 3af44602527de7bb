"""/v3/registered_limits, /v3/limits and /v3/limits/model (Keystone unified limits).

Stored as data for operators and clients; enforcement stays with the cloud's quota engine
(identity.services.quotas, the compute/volume quota-set APIs), which does not read them.
The model is `flat`.
"""
from django.db import transaction
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, Conflict, NotFound

from identity.services import catalog_admin
from identity.services.policy import check_owner, enforce
from ..models import Limit, Project, Region, RegisteredLimit, Service
from .common import IdentityView, checked_text

LIMIT_MAX = 2**31 - 1


def registered_limit_body(limit, v3_url: str) -> dict:
    return {
        "id": limit.id,
        "service_id": limit.service_id,
        "region_id": limit.region_id,
        "resource_name": limit.resource_name,
        "default_limit": limit.default_limit,
        "description": limit.description or None,
        "links": {"self": f"{v3_url}/registered_limits/{limit.id}"},
    }


def limit_body(limit, v3_url: str) -> dict:
    return {
        "id": limit.id,
        "project_id": limit.project_id,
        "domain_id": None,
        "service_id": limit.service_id,
        "region_id": limit.region_id,
        "resource_name": limit.resource_name,
        "resource_limit": limit.resource_limit,
        "description": limit.description or None,
        "links": {"self": f"{v3_url}/limits/{limit.id}"},
    }


def _count(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -1 <= value <= LIMIT_MAX:
        raise BadRequest(f"Invalid input for field '{field}': an integer from -1 to {LIMIT_MAX} is required.")
    return value


def _reference(model, value, field: str):
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input for field '{field}': a string is required.")
    obj = model.objects.filter(pk=value).first()
    if obj is None:
        raise BadRequest(f"Invalid {field}: {value} does not exist.")
    return obj


def _common_changes(ref: dict) -> dict:
    changes = {}
    if "service_id" in ref:
        changes["service"] = _reference(Service, ref["service_id"], "service_id")
    if "region_id" in ref:
        changes["region"] = None if ref["region_id"] is None else _reference(Region, ref["region_id"], "region_id")
    if "resource_name" in ref:
        name = ref["resource_name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise BadRequest("Invalid input for field 'resource_name': a string of 1-255 characters is required.")
        changes["resource_name"] = name
    if "description" in ref:
        changes["description"] = checked_text(ref["description"], "description", 65535)
    return changes


def _registered_changes(ref: dict) -> dict:
    changes = _common_changes(ref)
    if "default_limit" in ref:
        changes["default_limit"] = _count(ref["default_limit"], "default_limit")
    return changes


def _limit_changes(ref: dict) -> dict:
    changes = _common_changes(ref)
    if "project_id" in ref:
        changes["project"] = _reference(Project, ref["project_id"], "project_id")
    if "resource_limit" in ref:
        changes["resource_limit"] = _count(ref["resource_limit"], "resource_limit")
    return changes


def _save_unique(obj, what: str, changes: dict, same: dict):
    """Save unless another row of the same kind already has the identifying fields `same`."""
    for field, value in changes.items():
        setattr(obj, field, value)
    key = {k: getattr(obj, k) for k in same}
    if type(obj).objects.filter(**key).exclude(pk=obj.pk).exists():
        raise Conflict(f"Conflict occurred attempting to store {what} - Duplicate entry.")
    return catalog_admin.save(obj, what)


def _body_list(view, key: str) -> list:
    data = view.request.data
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise BadRequest(f"Invalid input for field '{key}': a non-empty list of objects is required.")
    return items


def _filter(queryset, params, fields):
    for field in fields:
        if field in params:
            queryset = queryset.filter(**{field: params[field] or None})
    return queryset


REGISTERED_KEY = ("service", "region", "resource_name")
REQUIRED_REGISTERED = ("service_id", "resource_name", "default_limit")
REQUIRED_LIMIT = ("project_id", "service_id", "resource_name", "resource_limit")


def _require(ref: dict, fields) -> None:
    for field in fields:
        if field not in ref:
            raise BadRequest(f"Invalid input for field '{field}': '{field}' is a required property.")


class RegisteredLimitListView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_registered_limits")
        limits = _filter(RegisteredLimit.objects.all(), request.query_params,
                         ("service_id", "region_id", "resource_name"))
        body = [registered_limit_body(limit, self.v3_url()) for limit in limits]
        return Response({"registered_limits": body, "links": self.collection_links()})

    def post(self, request):
        enforce(self.ctx, "identity:create_registered_limits")
        created = []
        with transaction.atomic():
            for ref in _body_list(self, "registered_limits"):
                _require(ref, REQUIRED_REGISTERED)
                created.append(_save_unique(RegisteredLimit(), "registered_limit", _registered_changes(ref),
                                            REGISTERED_KEY))
        return Response({"registered_limits": [registered_limit_body(r, self.v3_url()) for r in created]},
                        status=201)


def get_registered_limit(limit_id: str) -> RegisteredLimit:
    limit = RegisteredLimit.objects.filter(pk=limit_id).first()
    if limit is None:
        raise NotFound(f"Could not find registered limit: {limit_id}.")
    return limit


class RegisteredLimitDetailView(IdentityView):
    def get(self, request, limit_id):
        enforce(self.ctx, "identity:get_registered_limit")
        return Response({"registered_limit": registered_limit_body(get_registered_limit(limit_id), self.v3_url())})

    def patch(self, request, limit_id):
        enforce(self.ctx, "identity:update_registered_limit")
        limit = get_registered_limit(limit_id)
        limit = _save_unique(limit, "registered_limit", _registered_changes(self.body_object("registered_limit")),
                             REGISTERED_KEY)
        return Response({"registered_limit": registered_limit_body(limit, self.v3_url())})

    def delete(self, request, limit_id):
        enforce(self.ctx, "identity:delete_registered_limit")
        limit = get_registered_limit(limit_id)
        if Limit.objects.filter(service=limit.service, region=limit.region, resource_name=limit.resource_name).exists():
            raise Conflict("Project limits still refer to this registered limit; delete them first.")
        limit.delete()
        return Response(status=204)


class LimitListView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_limits")
        limits = _filter(Limit.objects.all(), request.query_params,
                         ("service_id", "region_id", "resource_name", "project_id"))
        if not self.ctx.is_admin:
            limits = limits.filter(project_id=self.ctx.project_id)
        return Response({"limits": [limit_body(limit, self.v3_url()) for limit in limits],
                         "links": self.collection_links()})

    def post(self, request):
        enforce(self.ctx, "identity:create_limits")
        created = []
        with transaction.atomic():
            for ref in _body_list(self, "limits"):
                _require(ref, REQUIRED_LIMIT)
                changes = _limit_changes(ref)
                registered = RegisteredLimit.objects.filter(
                    service=changes["service"], region=changes.get("region"), resource_name=changes["resource_name"]
                )
                if not registered.exists():
                    raise BadRequest(f"No registered limit for resource {changes['resource_name']!r} of that "
                                     "service and region: register one first.")
                created.append(_save_unique(Limit(), "limit", changes, ("project",) + REGISTERED_KEY))
        return Response({"limits": [limit_body(limit, self.v3_url()) for limit in created]}, status=201)


def get_limit(limit_id: str) -> Limit:
    limit = Limit.objects.filter(pk=limit_id).first()
    if limit is None:
        raise NotFound(f"Could not find limit: {limit_id}.")
    return limit


class LimitDetailView(IdentityView):
    def get(self, request, limit_id):
        limit = get_limit(limit_id)
        check_owner(self.ctx, limit.project_id, "limit")
        enforce(self.ctx, "identity:get_limit", {"project_id": limit.project_id})
        return Response({"limit": limit_body(limit, self.v3_url())})

    def patch(self, request, limit_id):
        enforce(self.ctx, "identity:update_limit")
        limit = get_limit(limit_id)
        ref = self.body_object("limit")
        changes = {}
        if "resource_limit" in ref:
            changes["resource_limit"] = _count(ref["resource_limit"], "resource_limit")
        if "description" in ref:
            changes["description"] = checked_text(ref["description"], "description", 65535)
        limit = catalog_admin.save(limit, "limit", **changes)
        return Response({"limit": limit_body(limit, self.v3_url())})

    def delete(self, request, limit_id):
        enforce(self.ctx, "identity:delete_limit")
        get_limit(limit_id).delete()
        return Response(status=204)


class LimitModelView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:get_limit_model")
        return Response({"model": {
            "name": "flat",
            "description": "Limit enforcement and validation does not take project hierarchy into consideration.",
        }})
