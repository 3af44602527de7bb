"""Keystone's OS-EP-FILTER endpoint groups: /v3/OS-EP-FILTER/endpoint_groups[/{id}] (admins).
Project associations (which would narrow a project's catalog) are not offered."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound

from identity.services.policy import enforce
from ..models import EndpointGroup
from .common import IdentityView, checked_name, checked_text

FILTER_KEYS = {"interface", "service_id", "region_id"}
INTERFACES = {"public", "internal", "admin"}


def _filters(value) -> dict:
    if not isinstance(value, dict) or not value:
        raise BadRequest("Invalid input for field 'filters': a non-empty object is required.")
    unknown = sorted(set(value) - FILTER_KEYS)
    if unknown:
        raise BadRequest(f"Invalid input for field 'filters': unknown filter {unknown[0]!r} "
                         f"(valid: {', '.join(sorted(FILTER_KEYS))}).")
    for key, item in value.items():
        checked_text(item, f"filters.{key}", 64)
    if "interface" in value and value["interface"] not in INTERFACES:
        raise BadRequest("Invalid input for field 'filters.interface': public, internal or admin.")
    return dict(value)


def _changes(ref: dict, creating: bool) -> dict:
    if creating and ("name" not in ref or "filters" not in ref):
        raise BadRequest("Invalid input for field 'endpoint_group': 'name' and 'filters' are required.")
    changes = {}
    if "name" in ref:
        changes["name"] = checked_name(ref["name"])
    if "description" in ref:
        changes["description"] = checked_text(ref["description"], "description", 65535)
    if "filters" in ref:
        changes["filters"] = _filters(ref["filters"])
    return changes


class _EndpointGroupView(IdentityView):
    def _body(self, group: EndpointGroup) -> dict:
        return {"id": group.id, "name": group.name, "description": group.description, "filters": group.filters,
                "links": {"self": self.v3_url(f"/OS-EP-FILTER/endpoint_groups/{group.id}")}}

    def _get(self, group_id: str) -> EndpointGroup:
        group = EndpointGroup.objects.filter(pk=group_id).first()
        if group is None:
            raise NotFound(f"Could not find endpoint group: {group_id}.")
        return group


class EndpointGroupListView(_EndpointGroupView):
    def get(self, request):
        enforce(self.ctx, "identity:list_endpoint_groups")
        groups = EndpointGroup.objects.all()
        if "name" in request.query_params:
            groups = groups.filter(name=request.query_params["name"])
        return Response({"endpoint_groups": [self._body(g) for g in groups], "links": self.collection_links()})

    def post(self, request):
        enforce(self.ctx, "identity:create_endpoint_group")
        group = EndpointGroup.objects.create(**_changes(self.body_object("endpoint_group"), creating=True))
        return Response({"endpoint_group": self._body(group)}, status=201)


class EndpointGroupDetailView(_EndpointGroupView):
    def get(self, request, group_id):
        enforce(self.ctx, "identity:get_endpoint_group")
        return Response({"endpoint_group": self._body(self._get(group_id))})

    def head(self, request, group_id):
        enforce(self.ctx, "identity:get_endpoint_group")
        self._get(group_id)
        return Response(status=200)

    def patch(self, request, group_id):
        enforce(self.ctx, "identity:update_endpoint_group")
        group = self._get(group_id)
        for field, value in _changes(self.body_object("endpoint_group"), creating=False).items():
            setattr(group, field, value)
        group.save()
        return Response({"endpoint_group": self._body(group)})

    def delete(self, request, group_id):
        enforce(self.ctx, "identity:delete_endpoint_group")
        self._get(group_id).delete()
        return Response(status=204)
