"""Block Storage v3 volumes and snapshots (microversion 3.0), in Cinder's shapes.

    GET    /v3/{project}/volumes[/detail]       ?name= ?status= ?all_tenants=1 (admin)
    POST   /v3/{project}/volumes                {"volume": {"size", "name", "description",
                                                 "availability_zone", "snapshot_id", "metadata",
                                                 "volume_type" (name or id), one of "snapshot_id",
                                                 "source_volid" (a clone), "imageRef"}} 202
    GET|PUT|DELETE /v3/{project}/volumes/{id}   show / name, description, metadata / 202
    GET    ...?limit= &marker= &offset= &sort=key:dir (or sort_key/sort_dir) ?bootable= ?metadata=
           ?glance_metadata= (3.4: the image's properties a volume from an image shows)
    POST   /v3/{project}/volumes/{id}/action    {"os-extend": {"new_size": n}} 202,
                                                {"os-set_bootable": {"bootable": b}} 200,
                                                {"os-update_readonly_flag": {"readonly": b}} 202,
                                                {"os-volume_upload_image": {"image_name",
                                                 "disk_format", "container_format", "force",
                                                 "visibility", "protected"}} 202; admins:
                                                {"os-force_delete": {}} 202 (any status but
                                                attached), {"os-reset_status": {"status"}} 202
    GET    /v3/{project}/snapshots[/detail], POST {"snapshot": {"volume_id", "name",
           "description", "force", "metadata"}} 202, GET|PUT|DELETE /snapshots/{id}

Over quota is a 413 (overLimit), a volume in the wrong state a 400, as Cinder answers.
"""
import ast
import json

from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.api.base import isotime
from identity.services import policy

from ..services import attachments as attachment_service
from ..services import snapshots as snapshot_service
from ..services import volumes as volume_service
from .common import VolumeView
from .listing import paginate
from .serializers import snapshot_detail, snapshot_summary, volume_detail, volume_summary

VOLUME_CREATE_FIELDS = {
    "size", "name", "description", "availability_zone", "snapshot_id", "metadata", "volume_type",
    "display_name", "display_description", "imageRef", "source_volid", "consistencygroup_id", "multiattach",
    "backup_id", "group_id",
}
UNSUPPORTED = ("backup_id", "group_id", "consistencygroup_id")
VOLUME_SORT_KEYS = {"id": "uuid", "name": "name", "display_name": "name", "status": "status", "size": "size",
                    "availability_zone": "availability_zone", "created_at": "created_at",
                    "updated_at": "updated_at", "bootable": "bootable"}
SNAPSHOT_SORT_KEYS = {"id": "uuid", "name": "name", "display_name": "name", "status": "status", "size": "size",
                      "created_at": "created_at", "updated_at": "updated_at"}


def body_of(request, key: str) -> dict:
    data = request.data
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise BadRequest(f"Missing required element '{key}' in request body.")
    return data[key]


def truthy(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y", "on", "t")


def list_filters(request, allowed: tuple) -> tuple[bool, dict]:
    params = request.query_params
    all_tenants = truthy(params.get("all_tenants", "0"))
    filters = {k: params[k] for k in allowed if k in params}
    for key in ("metadata", "glance_metadata"):
        if key in filters:
            filters[key] = parse_metadata_filter(filters[key])
    return all_tenants, filters


def parse_metadata_filter(text: str) -> dict:
    """`metadata={"k": "v"}` (JSON, as the clients send it; Cinder also accepts a Python dict literal)."""
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise BadRequest(f"Invalid input received: metadata filter {text!r} must be an object of strings.")
    return value


class VolumeCollection(VolumeView):
    detail = False

    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:get_all", {"project_id": self.ctx.project_id})
        allowed = ("name", "status", "availability_zone", "bootable", "metadata")
        if self.at_least("3.4"):
            allowed += ("glance_metadata",)
        if self.ctx.is_admin:  # with all_tenants: one project's volumes (Cinder's project_id filter)
            allowed += ("project_id",)
        all_tenants, filters = list_filters(request, allowed)
        rows = volume_service.volumes_for(self.ctx, all_tenants, filters, strict_bootable=self.at_least("3.2"))
        collection = "volumes/detail" if self.detail else "volumes"
        page, links = paginate(request, rows, VOLUME_SORT_KEYS, collection, project_id)
        render = volume_detail if self.detail else volume_summary
        body = {"volumes": [render(request, self.ctx, row) for row in page]}
        if links:
            body["volumes_links"] = links
        return Response(body)

    def post(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:create", {"project_id": self.ctx.project_id})
        body = body_of(request, "volume")
        unknown = sorted(set(body) - VOLUME_CREATE_FIELDS)
        if unknown:
            raise BadRequest(f"Invalid input for field/attribute volume: additional properties are not allowed "
                             f"({', '.join(unknown)}).")
        given = [key for key in UNSUPPORTED if body.get(key)]
        if given:
            raise BadRequest(f"Invalid input received: {', '.join(given)} is not supported by this cloud.")
        volume = volume_service.create_volume(
            self.ctx, body.get("size"), name=body.get("name", body.get("display_name")),
            description=body.get("description", body.get("display_description")),
            availability_zone=body.get("availability_zone"), snapshot_id=body.get("snapshot_id"),
            metadata=body.get("metadata"), volume_type=body.get("volume_type"),
            source_volid=body.get("source_volid"), image_ref=body.get("imageRef"),
        )
        return Response({"volume": volume_detail(request, self.ctx, volume, shape="create")}, status=202)


class VolumeDetailCollection(VolumeCollection):
    detail = True
    http_method_names = ["get", "head", "options"]


class VolumeItem(VolumeView):
    def _volume(self, project_id, volume_id, action):
        self.check_url_project(project_id)
        volume = volume_service.get_volume(self.ctx, volume_id)
        policy.enforce(self.ctx, action, {"project_id": volume.project_id})
        return volume

    def get(self, request, project_id, volume_id):
        volume = self._volume(project_id, volume_id, "volume:get")
        return Response({"volume": volume_detail(request, self.ctx, volume)})

    def put(self, request, project_id, volume_id):
        volume = self._volume(project_id, volume_id, "volume:update")
        body = body_of(request, "volume")
        unknown = sorted(set(body) - {"name", "description", "metadata", "display_name", "display_description"})
        if unknown:
            raise BadRequest(f"Invalid input for field/attribute volume: additional properties are not allowed "
                             f"({', '.join(unknown)}).")
        volume = volume_service.update_volume(
            self.ctx, volume, name=body.get("name", body.get("display_name")),
            description=body.get("description", body.get("display_description")), metadata=body.get("metadata"),
        )
        return Response({"volume": volume_detail(request, self.ctx, volume, shape="create")})

    def delete(self, request, project_id, volume_id):
        volume = self._volume(project_id, volume_id, "volume:delete")
        cascade = parse_flag(request.query_params.get("cascade", "false"), "cascade")
        volume_service.delete_volume(self.ctx, volume, cascade=cascade)
        return Response(status=202)


class VolumeAction(VolumeItem):
    http_method_names = ["post", "options"]

    def post(self, request, project_id, volume_id):
        data = request.data
        if not isinstance(data, dict) or len(data) != 1:
            raise BadRequest("Invalid request body: exactly one action is expected.")
        (action, value), = data.items()
        if action == "os-extend":
            volume = self._volume(project_id, volume_id, "volume:extend")
            if not isinstance(value, dict) or "new_size" not in value:
                raise BadRequest("Invalid input for field/attribute os-extend: 'new_size' is a required property.")
            volume_service.extend_volume(self.ctx, volume, value["new_size"])
            return Response(status=202)
        if action == "os-set_bootable":
            volume = self._volume(project_id, volume_id, "volume:set_bootable")
            if not isinstance(value, dict) or "bootable" not in value:
                raise BadRequest("Invalid input for field/attribute os-set_bootable: 'bootable' is a required "
                                 "property.")
            volume_service.set_bootable(volume, value["bootable"])
            return Response(status=200)
        if action == "os-update_readonly_flag":
            volume = self._volume(project_id, volume_id, "volume:update_readonly_flag")
            if not isinstance(value, dict) or "readonly" not in value:
                raise BadRequest("Invalid input for field/attribute os-update_readonly_flag: 'readonly' is a "
                                 "required property.")
            volume_service.update_readonly_flag(volume, value["readonly"])
            return Response(status=202)
        if action == "os-volume_upload_image":
            return self._upload_image(project_id, volume_id, value)
        if action == "os-force_delete":
            volume = self._volume(project_id, volume_id, "volume:force_delete")
            volume_service.force_delete(volume)
            return Response(status=202)
        if action == "os-reset_status":
            volume = self._volume(project_id, volume_id, "volume:reset_status")
            if not isinstance(value, dict) or not isinstance(value.get("status"), str):
                raise BadRequest("Invalid input for field/attribute os-reset_status: 'status' is a required property.")
            volume_service.reset_status(volume, value["status"])
            return Response(status=202)
        if action in ("os-set_image_metadata", "os-unset_image_metadata", "os-show_image_metadata"):
            return self._image_metadata(project_id, volume_id, action, value)
        if action == "os-retype":
            volume = self._volume(project_id, volume_id, "volume:retype")
            if not isinstance(value, dict) or not isinstance(value.get("new_type"), str):
                raise BadRequest("Invalid input for field/attribute os-retype: 'new_type' is a required property.")
            volume_service.retype(self.ctx, volume, value["new_type"], value.get("migration_policy", "never"))
            return Response(status=202)
        if action in ATTACH_ACTIONS:
            return self._attach_action(project_id, volume_id, action, value)
        raise BadRequest(f"There is no such action: {action}")

    def _upload_image(self, project_id, volume_id, value):
        """Cinder's os-volume_upload_image: 202 with what Cinder answers; the host copies."""
        volume = self._volume(project_id, volume_id, "volume:upload_image")
        if not isinstance(value, dict) or "image_name" not in value:
            raise BadRequest("Invalid input for field/attribute os-volume_upload_image: 'image_name' is a "
                             "required property.")
        options = {key: value[key] for key in ("disk_format", "container_format", "force", "visibility",
                                               "protected") if value.get(key) is not None}
        volume, image = volume_service.upload_to_image(self.ctx, volume, value["image_name"], **options)
        vtype = volume.volume_type or volume_service.types.default_type()
        return Response({"os-volume_upload_image": {
            "id": str(volume.uuid),
            "updated_at": isotime(volume.updated_at),
            "status": volume.status,
            "display_description": volume.description or None,
            "size": volume.size,
            "volume_type": {
                "id": str(vtype.uuid), "name": vtype.name, "description": vtype.description or None,
                "is_public": vtype.is_public, "extra_specs": dict(vtype.extra_specs or {}),
                "qos_specs_id": str(vtype.qos_specs.uuid) if vtype.qos_specs_id else None, "deleted": False,
                "created_at": isotime(vtype.created_at), "updated_at": isotime(vtype.updated_at), "deleted_at": None,
            },
            "image_id": str(image.id),
            "container_format": image.container_format,
            "disk_format": image.disk_format,
            "image_name": image.name,
            "protected": image.protected,
            "visibility": image.visibility,
        }}, status=202)

    def _image_metadata(self, project_id, volume_id, action, value):
        """The volume's image metadata (`volume_image_metadata`): os-set_image_metadata
        {"metadata": {...}} merges, os-unset_image_metadata {"key"} removes one (404 if absent),
        os-show_image_metadata answers {"metadata": {...}}."""
        if action == "os-show_image_metadata":
            volume = self._volume(project_id, volume_id, "volume:get")
            return Response({"metadata": dict(volume.image_metadata or {})})
        volume = self._volume(project_id, volume_id, "volume:update")
        if not isinstance(value, dict):
            raise BadRequest(f"Invalid input for field/attribute {action}: an object is expected.")
        if action == "os-set_image_metadata":
            if not isinstance(value.get("metadata"), dict):
                raise BadRequest("Invalid input for field/attribute os-set_image_metadata: 'metadata' is a required "
                                 "property.")
            return Response({"metadata": volume_service.set_image_metadata(volume, value["metadata"])})
        volume_service.unset_image_metadata(volume, value.get("key"))
        return Response(status=200)

    def _attach_action(self, project_id, volume_id, action, value):
        """Cinder's bookkeeping actions for an attacher that connects the volume itself
        (volumes.services.attachments: no disk is added to or removed from a guest)."""
        volume = self._volume(project_id, volume_id, ATTACH_ACTIONS[action])
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise BadRequest(f"Invalid input for field/attribute {action}: an object is expected.")
        if action == "os-reserve":
            attachment_service.reserve(volume)
        elif action == "os-unreserve":
            attachment_service.unreserve(volume)
        elif action == "os-begin_detaching":
            attachment_service.begin_detaching(volume)
        elif action == "os-roll_detaching":
            attachment_service.roll_detaching(volume)
        elif action == "os-attach":
            if value.get("instance_uuid") is None:
                if value.get("host_name") is not None:
                    raise BadRequest("Invalid input received: attaching a volume to a host (host_name) is not "
                                     "supported by this cloud; give instance_uuid.")
                raise BadRequest("Invalid input for field/attribute os-attach: 'instance_uuid' is a required "
                                 "property.")
            if value.get("mode", "rw") not in ("rw", "ro"):
                raise BadRequest("Invalid input received: mode must be 'rw' or 'ro'.")
            attachment_service.record_attach(self.ctx, volume, value["instance_uuid"], value.get("mountpoint"),
                                             value.get("mode", "rw"))
        elif action == "os-detach":
            attachment_service.record_detach(volume, value.get("attachment_id"))
        elif action == "os-force_detach":
            attachment_service.force_detach(volume, value.get("attachment_id"))
        return Response(status=202)


ATTACH_ACTIONS = {
    "os-reserve": "volume:attach", "os-unreserve": "volume:attach", "os-attach": "volume:attach",
    "os-begin_detaching": "volume:detach", "os-roll_detaching": "volume:detach", "os-detach": "volume:detach",
    "os-force_detach": "volume:force_detach",
}


def parse_flag(value, name: str) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "t", "yes", "y", "on"):
        return True
    if text in ("0", "false", "f", "no", "n", "off"):
        return False
    raise BadRequest(f"Invalid input received: {name} must be a boolean, got {value!r}.")


class SnapshotCollection(VolumeView):
    detail = False

    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:snapshots:get_all", {"project_id": self.ctx.project_id})
        all_tenants, filters = list_filters(request, ("name", "status", "volume_id"))
        rows = snapshot_service.snapshots_for(self.ctx, all_tenants, filters)
        collection = "snapshots/detail" if self.detail else "snapshots"
        page, links = paginate(request, rows, SNAPSHOT_SORT_KEYS, collection, project_id)
        render = snapshot_detail if self.detail else snapshot_summary
        body = {"snapshots": [render(request, self.ctx, row) for row in page]}
        if links:
            body["snapshots_links"] = links
        return Response(body)

    def post(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:snapshots:create", {"project_id": self.ctx.project_id})
        body = body_of(request, "snapshot")
        unknown = sorted(set(body) - {"volume_id", "name", "description", "force", "metadata", "display_name",
                                      "display_description"})
        if unknown:
            raise BadRequest(f"Invalid input for field/attribute snapshot: additional properties are not allowed "
                             f"({', '.join(unknown)}).")
        if "volume_id" not in body:
            raise BadRequest("Invalid input for field/attribute snapshot: 'volume_id' is a required property.")
        force = body.get("force", False)
        if not isinstance(force, bool):
            if str(force).lower() not in ("true", "false"):
                raise BadRequest(f"Invalid value '{force}' for force.")
            force = str(force).lower() == "true"
        volume = volume_service.get_volume(self.ctx, body["volume_id"])
        snapshot = snapshot_service.create_snapshot(
            self.ctx, volume, name=body.get("name", body.get("display_name")),
            description=body.get("description", body.get("display_description")), force=force,
            metadata=body.get("metadata"),
        )
        return Response({"snapshot": snapshot_summary(request, self.ctx, snapshot)}, status=202)


    def delete(self, request, project_id):
        raise NotFound("The resource could not be found.")


class SnapshotDetailCollection(SnapshotCollection):
    detail = True
    http_method_names = ["get", "head", "options"]


class SnapshotItem(VolumeView):
    def _snapshot(self, project_id, snapshot_id, action):
        self.check_url_project(project_id)
        snapshot = snapshot_service.get_snapshot(self.ctx, snapshot_id)
        policy.enforce(self.ctx, action, {"project_id": snapshot.project_id})
        return snapshot

    def get(self, request, project_id, snapshot_id):
        snapshot = self._snapshot(project_id, snapshot_id, "volume:snapshots:get")
        return Response({"snapshot": snapshot_detail(request, self.ctx, snapshot)})

    def put(self, request, project_id, snapshot_id):
        snapshot = self._snapshot(project_id, snapshot_id, "volume:snapshots:update")
        body = body_of(request, "snapshot")
        snapshot = snapshot_service.update_snapshot(
            self.ctx, snapshot, name=body.get("name", body.get("display_name")),
            description=body.get("description", body.get("display_description")),
        )
        return Response({"snapshot": snapshot_summary(request, self.ctx, snapshot)})

    def delete(self, request, project_id, snapshot_id):
        snapshot = self._snapshot(project_id, snapshot_id, "volume:snapshots:delete")
        snapshot_service.delete_snapshot(self.ctx, snapshot)
        return Response(status=202)




class SnapshotAction(SnapshotItem):
    """POST /snapshots/{id}/action: {"os-reset_status": {"status"}} and {"os-force_delete": {}}
    (admins), {"os-update_snapshot_status": {"status", "progress"}} (the owner: what an
    attacher that made the snapshot itself reports, creating -> available/error)."""

    http_method_names = ["post", "options"]

    def post(self, request, project_id, snapshot_id):
        data = request.data
        if not isinstance(data, dict) or len(data) != 1:
            raise BadRequest("Invalid request body: exactly one action is expected.")
        (action, value), = data.items()
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise BadRequest(f"Invalid input for field/attribute {action}: an object is expected.")
        if action == "os-reset_status":
            snapshot = self._snapshot(project_id, snapshot_id, "volume:snapshots:reset_status")
            snapshot_service.reset_status(snapshot, value.get("status"))
        elif action == "os-force_delete":
            snapshot = self._snapshot(project_id, snapshot_id, "volume:snapshots:force_delete")
            snapshot_service.force_delete(snapshot)
        elif action == "os-update_snapshot_status":
            snapshot = self._snapshot(project_id, snapshot_id, "volume:snapshots:update_status")
            snapshot_service.update_status(snapshot, value.get("status"), value.get("progress"))
        else:
            raise BadRequest(f"There is no such action: {action}")
        return Response(status=202)


class EmptyVolumeId(VolumeView):
    """/volumes/ (an empty volume id: tempest's show/update/delete of ''): Cinder has no such
    route, every method is a 404."""

    def _not_found(self, request, project_id):
        self.check_url_project(project_id)
        raise NotFound("The resource could not be found.")

    get = post = put = delete = _not_found
