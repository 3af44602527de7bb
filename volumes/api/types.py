"""Block Storage v3 volume types and their extra specs, extensions and back-end capabilities.

    GET    /v3/{project}/types[?is_public=]          {"volume_types": [...]} (admins: private too)
    POST   /v3/{project}/types                       admins: {"volume_type": {"name", "description",
                                                     "os-volume-type-access:is_public", "extra_specs"}} 200
    GET    /v3/{project}/types/default               the default type (__DEFAULT__)
    GET|PUT|DELETE /v3/{project}/types/{id}          PUT (admins) {"volume_type": {"name",
                                                     "description", "is_public"}} 200; DELETE 202
    GET|POST /v3/{project}/types/{id}/extra_specs    POST (admins) {"extra_specs": {...}} 200
    GET|PUT|DELETE /v3/{project}/types/{id}/extra_specs/{key}   PUT {key: value} 200; DELETE 202
    GET    /v3/{project}/extensions                  {"extensions": [...]}
    GET    /v3/{project}/capabilities/{host}         admins: what a volume host's back end offers
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from identity.services import policy

from ..models import VolumeHost
from ..services import scheduler
from ..services import types as type_service
from .common import UPDATED, VolumeView
from .serializers import volume_type_view
from .views import body_of

CREATE_FIELDS = {"name", "description", "os-volume-type-access:is_public", "is_public", "extra_specs"}
UPDATE_FIELDS = {"name", "description", "is_public"}


def _unknown(body: dict, allowed: set, what: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"Invalid input for field/attribute {what}: additional properties are not allowed "
                         f"({', '.join(unknown)}).")


class TypeCollection(VolumeView):
    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:types:get_all")
        is_public = request.query_params.get("is_public")
        flag = None
        if is_public is not None and is_public.lower() != "none":
            flag = type_service.parse_bool(is_public, "is_public")
        rows = type_service.types_for(self.ctx, flag)
        return Response({"volume_types": [volume_type_view(self.ctx, row) for row in rows]})

    def post(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:types:manage")
        body = body_of(request, "volume_type")
        _unknown(body, CREATE_FIELDS, "volume_type")
        if "name" not in body:
            raise BadRequest("Invalid input for field/attribute volume_type: 'name' is a required property.")
        is_public = body.get("os-volume-type-access:is_public", body.get("is_public", True))
        vtype = type_service.create_type(body["name"], body.get("description"), is_public,
                                         body.get("extra_specs"))
        return Response({"volume_type": volume_type_view(self.ctx, vtype, shape="create")})


class DefaultType(VolumeView):
    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:types:get")
        return Response({"volume_type": volume_type_view(self.ctx, type_service.default_type())})


class TypeItem(VolumeView):
    def _type(self, project_id, type_id, action):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, action)
        return type_service.get_type(self.ctx, type_id)

    def get(self, request, project_id, type_id):
        return Response({"volume_type": volume_type_view(self.ctx, self._type(project_id, type_id,
                                                                               "volume:types:get"))})

    def put(self, request, project_id, type_id):
        vtype = self._type(project_id, type_id, "volume:types:manage")
        body = body_of(request, "volume_type")
        _unknown(body, UPDATE_FIELDS, "volume_type")
        vtype = type_service.update_type(vtype, body.get("name"), body.get("description"), body.get("is_public"))
        return Response({"volume_type": volume_type_view(self.ctx, vtype, shape="update")})

    def delete(self, request, project_id, type_id):
        type_service.delete_type(self._type(project_id, type_id, "volume:types:manage"))
        return Response(status=202)


class ExtraSpecs(VolumeView):
    def get(self, request, project_id, type_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:types:extra_specs:get")
        vtype = type_service.get_type(self.ctx, type_id)
        return Response({"extra_specs": volume_type_view(self.ctx, vtype)["extra_specs"]})

    def post(self, request, project_id, type_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:types:manage")
        vtype = type_service.get_type(self.ctx, type_id)
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("extra_specs"), dict) or set(data) != {"extra_specs"}:
            raise BadRequest("Missing required element 'extra_specs' in request body.")
        return Response({"extra_specs": type_service.set_specs(vtype, data["extra_specs"])})


class ExtraSpec(VolumeView):
    def _type(self, project_id, type_id, action):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, action)
        return type_service.get_type(self.ctx, type_id)

    def get(self, request, project_id, type_id, key):
        vtype = self._type(project_id, type_id, "volume:types:extra_specs:get")
        specs = volume_type_view(self.ctx, vtype)["extra_specs"]
        if key not in specs:
            raise NotFound(f"Volume Type {vtype.uuid} has no extra specs with key {key}.")
        return Response({key: specs[key]})

    def put(self, request, project_id, type_id, key):
        vtype = self._type(project_id, type_id, "volume:types:manage")
        data = request.data
        if not isinstance(data, dict) or len(data) != 1:
            raise BadRequest("Request body contains too many items.")
        if key not in data:
            raise BadRequest("Request body and URI mismatch.")
        return Response(type_service.set_specs(vtype, {key: data[key]}))

    def delete(self, request, project_id, type_id, key):
        type_service.delete_spec(self._type(project_id, type_id, "volume:types:manage"), key)
        return Response(status=202)


EXTENSIONS = (
    ("os-admin-actions", "AdminActions", "Enable admin actions (force delete, reset status)."),
    ("os-availability-zone", "AvailabilityZones", "Describe Availability Zones."),
    ("os-extended-snapshot-attributes", "ExtendedSnapshotAttributes", "Extended SnapshotAttributes support."),
    ("os-extended-services", "ExtendedServices", "Extended services support."),
    ("os-quota-sets", "Quotas", "Quota management support."),
    ("os-services", "Services", "Services support."),
    ("os-types-extra-specs", "TypesExtraSpecs", "Type extra specs support."),
    ("os-types-manage", "TypesManage", "Types manage support."),
    ("os-vol-host-attr", "VolumeHostAttribute", "Expose host as an attribute of a volume."),
    ("os-vol-mig-status-attr", "VolumeMigStatusAttribute", "Expose migration_status as an attribute of a "
                                                           "volume."),
    ("os-vol-tenant-attr", "VolumeTenantAttribute", "Expose the internal project_id as an attribute of a "
                                                    "volume."),
    ("os-volume-actions", "VolumeActions", "Enable volume actions."),
    ("capabilities", "Capabilities", "Capabilities support."),
    ("os-hosts", "Hosts", "Admin-only host administration."),
    ("os-quota-class-sets", "QuotaClasses", "Quota classes management support."),
    ("qos-specs", "Qos_specs_manage", "QoS specs support."),
    ("scheduler-stats", "Scheduler_stats", "Scheduler stats support."),
    ("os-snapshot-actions", "SnapshotActions", "Enable snapshot manager actions."),
    ("os-volume-transfer", "VolumeTransfer", "Volume transfer management support."),
)


class ExtensionsView(VolumeView):
    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:extensions:list")
        return Response({"extensions": [
            {"alias": alias, "name": name, "description": description, "links": [], "updated": UPDATED}
            for alias, name, description in EXTENSIONS
        ]})


class CapabilitiesView(VolumeView):
    def get(self, request, project_id, host):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:capabilities:show")
        row = VolumeHost.objects.filter(host=host.split("@", 1)[0]).first()
        if row is None:
            raise NotFound(f"Service {host} could not be found.")
        return Response({
            "namespace": f"OS::Storage::Capabilities::{row.host}@{row.driver}",
            "volume_backend_name": row.driver, "pool_name": row.driver,
            **scheduler.capabilities(row.driver), "display_name": None,
            "description": None, "visibility": None, "replication_targets": [],
            "properties": {
                "thin_provisioning": {"title": "Thin Provisioning", "type": "boolean",
                                      "description": "Sets thin provisioning."},
            },
        })


class TypeAction(VolumeView):
    """POST /types/{id}/action (admins): {"addProjectAccess": {"project"}} and
    {"removeProjectAccess": {"project"}} on a private type, 202."""

    ACTIONS = {"addProjectAccess": type_service.add_access, "removeProjectAccess": type_service.remove_access}

    def post(self, request, project_id, type_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:types:manage")
        vtype = type_service.get_type(self.ctx, type_id)
        data = request.data
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in self.ACTIONS:
            raise BadRequest("Invalid input received: addProjectAccess or removeProjectAccess is required.")
        action, args = next(iter(data.items()))
        if not isinstance(args, dict) or "project" not in args:
            raise BadRequest(f"Invalid input received: {action} needs a 'project'.")
        self.ACTIONS[action](vtype, args["project"])
        return Response(status=202)


class TypeAccess(VolumeView):
    """GET /types/{id}/os-volume-type-access (admins): the projects given a private type."""

    def get(self, request, project_id, type_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:types:manage")
        vtype = type_service.get_type(self.ctx, type_id)
        body = [{"volume_type_id": str(vtype.uuid), "project_id": pid} for pid in type_service.access_list(vtype)]
        return Response({"volume_type_access": body})
