"""Flavors, their extra specs and access lists (thin views over compute.services.flavors)."""
from urllib.parse import urlencode

from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.services import flavors as svc
from identity.services.policy import enforce

from . import serializers
from .base import FALSE_STRINGS, TRUE_STRINGS, ComputeAPIView, api_version, compute_base, parse_bool, parse_int

MAX_LIMIT = 1000
SORT_KEYS = {
    "created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id", "is_public",
    "memory_mb", "name", "root_gb", "rxtx_factor", "swap", "updated_at", "vcpu_weight", "vcpus",
}
CREATE_FIELDS = {
    "name", "ram", "vcpus", "disk", "id", "OS-FLV-EXT-DATA:ephemeral", "swap", "rxtx_factor",
    "os-flavor-access:is_public",
}
DESCRIPTION_VERSION = (2, 55)  # a flavor's description: create, PUT /flavors/{id}, shown


def _is_public_filter(value):
    """Nova's _parse_is_public: absent → True, 'none' → None (all), else a strict bool."""
    if value is None:
        return True
    lowered = value.strip().lower()
    if lowered == "none":
        return None
    if lowered in TRUE_STRINGS | FALSE_STRINGS:
        return lowered in TRUE_STRINGS
    raise BadRequest(f"Invalid is_public filter [{value}]")


def _int_filter(params, name):
    value = params.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"Invalid {name} filter [{value}]") from None


class FlavorCollection(ComputeAPIView):
    detail = False

    def list_flavors(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:flavors:list")
        params = request.query_params
        qs = svc.visible_flavors(ctx.project_id, ctx.is_admin, _is_public_filter(params.get("is_public")))
        min_ram, min_disk = _int_filter(params, "minRam"), _int_filter(params, "minDisk")
        if min_ram is not None:
            qs = qs.filter(memory_mb__gte=min_ram)
        if min_disk is not None:
            qs = qs.filter(root_gb__gte=min_disk)
        sort_key = params.get("sort_key", "flavorid")
        sort_dir = params.get("sort_dir", "asc")
        if sort_key not in SORT_KEYS or sort_key == "vcpu_weight" or sort_key == "description":
            raise BadRequest(f"Invalid sort_key {sort_key}")
        if sort_dir not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort_dir {sort_dir}")
        order = sort_key if sort_key != "id" else "pk"
        qs = qs.prefetch_related("extra_specs") if self.detail else qs
        flavors = list(qs.order_by(("-" if sort_dir == "desc" else "") + order, "flavorid"))
        limit = MAX_LIMIT
        if "limit" in params:
            limit = parse_int(params["limit"], "limit", 0, 2**63)
            limit = min(limit, MAX_LIMIT)
        marker = params.get("marker")
        if marker is not None:
            index = next((i for i, f in enumerate(flavors) if f.flavorid == marker), None)
            if index is None:
                raise BadRequest(f"marker [{marker}] not found")
            flavors = flavors[index + 1:]
        page = flavors[:limit]
        render = serializers.flavor_detail if self.detail else serializers.flavor_summary
        body = {"flavors": [render(request, flavor) for flavor in page]}
        if page and len(page) == limit and len(flavors) > limit:
            query = {k: v for k, v in params.items() if k != "marker"}
            query.update({"limit": limit, "marker": page[-1].flavorid})
            path = "flavors/detail" if self.detail else "flavors"
            body["flavors_links"] = [
                {"rel": "next", "href": f"{compute_base(request)}/v2.1/{path}?{urlencode(query)}"}
            ]
        return Response(body)


class FlavorListView(FlavorCollection):
    def get(self, request):
        return self.list_flavors(request)

    def post(self, request):
        enforce(self.ctx, "compute:flavors:create")
        with_description = api_version(request) >= DESCRIPTION_VERSION
        data = self.body("flavor", CREATE_FIELDS | ({"description"} if with_description else set()),
                         {"name", "ram", "vcpus", "disk"})
        flavorid = data.get("id")
        if flavorid is not None:
            if isinstance(flavorid, bool) or not isinstance(flavorid, (str, int, float)):
                raise BadRequest("Invalid input for field/attribute id: must be a string.")
            flavorid = str(flavorid)
        name = data["name"]
        if not isinstance(name, str):
            raise BadRequest("Invalid input for field/attribute name: must be a string.")
        rxtx = data.get("rxtx_factor", 1.0)
        if isinstance(rxtx, str):
            try:
                rxtx = float(rxtx)
            except ValueError:
                raise BadRequest("Invalid input for field/attribute rxtx_factor: must be a number.") from None
        flavor = svc.create_flavor(
            name=name,
            memory_mb=parse_int(data["ram"], "ram", 1),
            vcpus=parse_int(data["vcpus"], "vcpus", 1),
            root_gb=parse_int(data["disk"], "disk", 0),
            flavorid=flavorid,
            ephemeral_gb=parse_int(data.get("OS-FLV-EXT-DATA:ephemeral", 0), "OS-FLV-EXT-DATA:ephemeral", 0),
            swap=parse_int(data.get("swap", 0) or 0, "swap", 0),
            rxtx_factor=rxtx,
            is_public=parse_bool(data.get("os-flavor-access:is_public", True), "os-flavor-access:is_public"),
            description=data.get("description"),
        )
        return Response({"flavor": serializers.flavor_detail(request, flavor)})


class FlavorDetailListView(FlavorCollection):
    detail = True

    def get(self, request):
        return self.list_flavors(request)


class FlavorView(ComputeAPIView):
    def get(self, request, flavor_id):
        enforce(self.ctx, "compute:flavors:show")
        flavor = svc.get_flavor(flavor_id, self.ctx.project_id, self.ctx.is_admin)
        return Response({"flavor": serializers.flavor_detail(request, flavor)})

    def put(self, request, flavor_id):
        """2.55: {"flavor": {"description": str|null}} (admins); no such method below 2.55 (404)."""
        if api_version(request) < DESCRIPTION_VERSION:
            raise NotFound("The resource could not be found.")
        enforce(self.ctx, "compute:flavors:update")
        data = self.body("flavor", {"description"}, {"description"})
        flavor = svc.set_description(svc.get_flavor(flavor_id), data["description"])
        return Response({"flavor": serializers.flavor_detail(request, flavor)})

    def delete(self, request, flavor_id):
        enforce(self.ctx, "compute:flavors:delete")
        svc.delete_flavor(svc.get_flavor(flavor_id))
        return Response(status=202)


class ExtraSpecsView(ComputeAPIView):
    def get(self, request, flavor_id):
        enforce(self.ctx, "compute:flavor_extra_specs:index")
        flavor = svc.get_flavor(flavor_id, self.ctx.project_id, self.ctx.is_admin)
        return Response({"extra_specs": svc.extra_specs(flavor)})

    def post(self, request, flavor_id):
        enforce(self.ctx, "compute:flavor_extra_specs:create")
        flavor = svc.get_flavor(flavor_id)
        data = request.data
        if not isinstance(data, dict) or set(data) != {"extra_specs"} or not isinstance(data["extra_specs"], dict):
            raise BadRequest("Invalid input: the body must be {\"extra_specs\": {key: value, ...}}.")
        if not data["extra_specs"]:
            raise BadRequest("Invalid input for field/attribute extra_specs: at least one key is required.")
        return Response({"extra_specs": svc.set_extra_specs(flavor, data["extra_specs"])})


class ExtraSpecView(ComputeAPIView):
    def get(self, request, flavor_id, key):
        enforce(self.ctx, "compute:flavor_extra_specs:show")
        flavor = svc.get_flavor(flavor_id, self.ctx.project_id, self.ctx.is_admin)
        return Response({key: svc.get_extra_spec(flavor, key)})

    def put(self, request, flavor_id, key):
        enforce(self.ctx, "compute:flavor_extra_specs:update")
        flavor = svc.get_flavor(flavor_id)
        data = request.data
        if not isinstance(data, dict) or not data:
            raise BadRequest("Invalid input: the body must be {\"<key>\": \"<value>\"}.")
        if len(data) > 1:
            raise BadRequest("Request body contains too many items")
        if key not in data:
            raise BadRequest("Request body and URI mismatch")
        return Response(svc.set_extra_specs(flavor, data))

    def delete(self, request, flavor_id, key):
        enforce(self.ctx, "compute:flavor_extra_specs:delete")
        svc.delete_extra_spec(svc.get_flavor(flavor_id), key)
        return Response(status=200)


class FlavorAccessView(ComputeAPIView):
    def get(self, request, flavor_id):
        enforce(self.ctx, "compute:flavor_access:list")
        flavor = svc.get_flavor(flavor_id)
        return Response(serializers.flavor_access(flavor, svc.access_list(flavor)))


class FlavorActionView(ComputeAPIView):
    ACTIONS = {
        "addTenantAccess": ("compute:flavor_access:add_tenant_access", svc.add_access),
        "removeTenantAccess": ("compute:flavor_access:remove_tenant_access", svc.remove_access),
    }

    def post(self, request, flavor_id):
        data = request.data
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in self.ACTIONS:
            raise BadRequest("There is no such action: " + (", ".join(data) if isinstance(data, dict) else ""))
        action = next(iter(data))
        rule, operation = self.ACTIONS[action]
        enforce(self.ctx, rule)
        inner = self.body(action, {"tenant"}, {"tenant"})
        flavor = svc.get_flavor(flavor_id)
        return Response(serializers.flavor_access(flavor, operation(flavor, inner["tenant"])))
