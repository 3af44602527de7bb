"""/v3/regions, /v3/services and /v3/endpoints: the catalog tokens carry, as data."""
import re
from urllib.parse import urlsplit

from django.db import transaction
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound

from identity.services import catalog_admin
from identity.services.policy import enforce
from ..models import Endpoint, Region, Service, new_id
from .bodies import endpoint_body, region_body, service_body
from .common import IdentityView, bool_query, checked_bool, checked_text, delete_or_conflict, duplicate_to_conflict

INTERFACES = ("public", "internal", "admin")
REGION_ID = re.compile(r"^[A-Za-z0-9._~-]{1,255}$")
URL_MAX_LENGTH = 2048
DESCRIPTION_MAX_LENGTH = 65535


def get_region(region_id: str) -> Region:
    region = Region.objects.filter(pk=region_id).first()
    if region is None:
        raise NotFound(f"Could not find region: {region_id}.")
    return region


def get_service(service_id: str) -> Service:
    service = Service.objects.filter(pk=service_id).first()
    if service is None:
        raise NotFound(f"Could not find service: {service_id}.")
    return service


def get_endpoint(endpoint_id: str) -> Endpoint:
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"Could not find endpoint: {endpoint_id}.")
    return endpoint


def _short_string(value, field: str, required: bool = False) -> str:
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > 255:
        raise BadRequest(f"Invalid input for field '{field}': a string of at most 255 characters is required.")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise BadRequest(f"Invalid input for field '{field}': control characters are not allowed.")
    return value


# --- regions -------------------------------------------------------------------------------


def _region_changes(ref: dict, region: Region | None) -> dict:
    changes = {}
    if "description" in ref:
        changes["description"] = checked_text(ref["description"], "description", 255)
    if "parent_region_id" in ref:
        parent_id = ref["parent_region_id"]
        if parent_id is None:
            changes["parent_region"] = None
        else:
            if not isinstance(parent_id, str):
                raise BadRequest("Invalid input for field 'parent_region_id': a string is required.")
            parent = Region.objects.filter(pk=parent_id).first()
            if parent is None:
                raise BadRequest(f"Invalid parent_region_id: region {parent_id} does not exist.")
            if region is not None and catalog_admin.region_loops(region, parent):
                raise BadRequest(f"Region {parent_id} cannot be the parent of {region.id}: that makes a loop.")
            changes["parent_region"] = parent
    return changes


class RegionListView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_regions")
        regions = Region.objects.all()
        if "parent_region_id" in request.query_params:
            regions = regions.filter(parent_region_id=request.query_params["parent_region_id"])
        return Response(
            {"regions": [region_body(r, self.v3_url()) for r in regions], "links": self.collection_links()}
        )

    def post(self, request):
        enforce(self.ctx, "identity:create_region")
        ref = self.body_object("region")
        region_id = ref.get("id") or new_id()
        if not isinstance(region_id, str) or not REGION_ID.match(region_id):
            raise BadRequest("Invalid input for field 'id': letters, digits, '.', '_', '~' and '-' only (1-255).")
        return _create_region(self, region_id, ref)


def _create_region(view: IdentityView, region_id: str, ref: dict) -> Response:
    region = duplicate_to_conflict(catalog_admin.create_region, region_id, **_region_changes(ref, None))
    return Response({"region": region_body(region, view.v3_url())}, status=201)


class RegionDetailView(IdentityView):
    def get(self, request, region_id):
        enforce(self.ctx, "identity:get_region")
        return Response({"region": region_body(get_region(region_id), self.v3_url())})

    def put(self, request, region_id):
        """Keystone's create-with-id form (PUT /v3/regions/{id})."""
        enforce(self.ctx, "identity:create_region")
        ref = self.body_object("region")
        if "id" in ref and ref["id"] != region_id:
            raise BadRequest("The region id in the body does not match the URL.")
        if not REGION_ID.match(region_id):
            raise BadRequest("Invalid region id.")
        return _create_region(self, region_id, ref)

    def patch(self, request, region_id):
        enforce(self.ctx, "identity:update_region")
        region = get_region(region_id)
        ref = self.body_object("region")
        if "id" in ref and ref["id"] != region_id:
            raise BadRequest("A region's id cannot be changed.")
        region = catalog_admin.save(region, "region", **_region_changes(ref, region))
        return Response({"region": region_body(region, self.v3_url())})

    def delete(self, request, region_id):
        enforce(self.ctx, "identity:delete_region")
        delete_or_conflict(get_region(region_id), "region")
        return Response(status=204)


# --- services ------------------------------------------------------------------------------


def _service_changes(ref: dict) -> dict:
    changes = {}
    if "type" in ref:
        changes["type"] = _short_string(ref["type"], "type", required=True)
    if "name" in ref:
        changes["name"] = _short_string(ref["name"], "name")
    if "description" in ref:
        changes["description"] = checked_text(ref["description"], "description", DESCRIPTION_MAX_LENGTH)
    if "enabled" in ref:
        changes["enabled"] = checked_bool(ref["enabled"], "enabled")
    return changes


class ServiceListView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_services")
        services = Service.objects.all()
        params = request.query_params
        if "type" in params:
            services = services.filter(type=params["type"])
        if "name" in params:
            services = services.filter(name=params["name"])
        return Response(
            {"services": [service_body(s, self.v3_url()) for s in services], "links": self.collection_links()}
        )

    def post(self, request):
        enforce(self.ctx, "identity:create_service")
        ref = self.body_object("service")
        if "type" not in ref:
            raise BadRequest("Invalid input for field 'type': 'type' is a required property.")
        service = catalog_admin.save(Service(), "service", **_service_changes(ref))
        return Response({"service": service_body(service, self.v3_url())}, status=201)


class ServiceDetailView(IdentityView):
    def get(self, request, service_id):
        enforce(self.ctx, "identity:get_service")
        return Response({"service": service_body(get_service(service_id), self.v3_url())})

    def patch(self, request, service_id):
        enforce(self.ctx, "identity:update_service")
        service = get_service(service_id)
        service = catalog_admin.save(service, "service", **_service_changes(self.body_object("service")))
        return Response({"service": service_body(service, self.v3_url())})

    def delete(self, request, service_id):
        enforce(self.ctx, "identity:delete_service")
        delete_or_conflict(get_service(service_id), "service", catalog_admin.delete_service)
        return Response(status=204)


# --- endpoints -----------------------------------------------------------------------------


def checked_url(value) -> str:
    """An absolute http(s) URL, or a path under the cloud's base URL ("/compute/v2.1")."""
    if not isinstance(value, str) or not value or len(value) > URL_MAX_LENGTH:
        raise BadRequest("Invalid input for field 'url': a URL is required.")
    if any(ord(c) <= 32 or ord(c) == 127 for c in value):
        raise BadRequest("Invalid input for field 'url': spaces and control characters are not allowed.")
    if value.startswith("/") and not value.startswith("//"):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest("Invalid input for field 'url': an http(s) URL or a path starting with '/' is required.")
    return value


def _endpoint_changes(ref: dict) -> dict:
    changes = {}
    if "service_id" in ref:
        if not isinstance(ref["service_id"], str):
            raise BadRequest("Invalid input for field 'service_id': a string is required.")
        service = Service.objects.filter(pk=ref["service_id"]).first()
        if service is None:
            raise BadRequest(f"Invalid service_id: service {ref['service_id']} does not exist.")
        changes["service"] = service
    if "interface" in ref:
        if ref["interface"] not in INTERFACES:
            raise BadRequest(f"Invalid input for field 'interface': one of {', '.join(INTERFACES)} is required.")
        changes["interface"] = ref["interface"]
    if "url" in ref:
        changes["url"] = checked_url(ref["url"])
    if "enabled" in ref:
        changes["enabled"] = checked_bool(ref["enabled"], "enabled")
    region_id = ref.get("region_id", ref.get("region"))
    if "region_id" in ref or "region" in ref:
        if region_id is None:
            changes["region"] = None
        else:
            if not isinstance(region_id, str):
                raise BadRequest("Invalid input for field 'region_id': a string is required.")
            region = Region.objects.filter(pk=region_id).first()
            if region is None and "region_id" not in ref:
                # Keystone: the legacy `region` attribute names a region that is created when
                # missing (v2-era clients); `region_id` must name an existing one
                if not REGION_ID.match(region_id):
                    raise BadRequest("Invalid input for field 'region': 1-255 of letters, digits and ._~- "
                                     "are allowed.")
                region = Region(id=region_id)  # created with the endpoint (_save_endpoint)
            elif region is None:
                raise BadRequest(f"Invalid region_id: region {region_id} does not exist.")
            changes["region"] = region
    return changes


def _save_endpoint(endpoint: Endpoint, changes: dict) -> Endpoint:
    """The endpoint, and the region a legacy `region` attribute named when it is new, together."""
    with transaction.atomic():
        region = changes.get("region")
        if region is not None and region._state.adding:
            changes["region"] = duplicate_to_conflict(catalog_admin.create_region, region.id)
        return catalog_admin.save(endpoint, "endpoint", **changes)


class EndpointListView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_endpoints")
        endpoints = Endpoint.objects.select_related("service")
        params = request.query_params
        for field in ("service_id", "interface", "region_id"):
            if field in params:
                endpoints = endpoints.filter(**{field: params[field]})
        if "enabled" in params and bool_query(params["enabled"]) is not None:
            endpoints = endpoints.filter(enabled=bool_query(params["enabled"]))
        base, v3 = self.base_url(), self.v3_url()
        return Response(
            {"endpoints": [endpoint_body(e, v3, base) for e in endpoints], "links": self.collection_links()}
        )

    def post(self, request):
        enforce(self.ctx, "identity:create_endpoint")
        ref = self.body_object("endpoint")
        for field in ("service_id", "interface", "url"):
            if field not in ref:
                raise BadRequest(f"Invalid input for field '{field}': '{field}' is a required property.")
        endpoint = _save_endpoint(Endpoint(), _endpoint_changes(ref))
        return Response({"endpoint": endpoint_body(endpoint, self.v3_url(), self.base_url())}, status=201)


class EndpointDetailView(IdentityView):
    def get(self, request, endpoint_id):
        enforce(self.ctx, "identity:get_endpoint")
        return Response({"endpoint": endpoint_body(get_endpoint(endpoint_id), self.v3_url(), self.base_url())})

    def patch(self, request, endpoint_id):
        enforce(self.ctx, "identity:update_endpoint")
        endpoint = get_endpoint(endpoint_id)
        endpoint = _save_endpoint(endpoint, _endpoint_changes(self.body_object("endpoint")))
        return Response({"endpoint": endpoint_body(endpoint, self.v3_url(), self.base_url())})

    def delete(self, request, endpoint_id):
        enforce(self.ctx, "identity:delete_endpoint")
        delete_or_conflict(get_endpoint(endpoint_id), "endpoint", catalog_admin.delete_endpoint)
        return Response(status=204)
