"""Block Storage v3 QoS specs (admins only), as Cinder's qos-specs:

    GET    /v3/{project}/qos-specs                        {"qos_specs": [{"id", "name", "consumer", "specs"}]}
    POST   /v3/{project}/qos-specs                        {"qos_specs": {"name", ["consumer"], key: value...}}
                                                          200 {"qos_specs": {...}, "links": [...]}; a taken name 409
    GET    /v3/{project}/qos-specs/{id}                   {"qos_specs": {...}, "links": [...]}
    PUT    /v3/{project}/qos-specs/{id}                   {"qos_specs": {key: value}} 200, echoes what was set
    DELETE /v3/{project}/qos-specs/{id}[?force=true]      202; still associated and not forced: 400
    PUT    /v3/{project}/qos-specs/{id}/delete_keys       {"keys": [...]} 202; an unknown key 404
    GET    /v3/{project}/qos-specs/{id}/associations      {"qos_associations": [{"association_type":
                                                          "volume_type", "id", "name"}]}
    GET    /v3/{project}/qos-specs/{id}/associate?vol_type_id=      202 (a type has at most one)
    GET    /v3/{project}/qos-specs/{id}/disassociate?vol_type_id=   202
    GET    /v3/{project}/qos-specs/{id}/disassociate_all            202

The specs are stored and shown (and a volume type shows its `qos_specs_id`), but no volume
driver here applies them: a volume of an associated type gets no I/O limit.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from identity.services import catalog, policy

from ..models import QosSpecs
from ..services import qos as qos_service
from ..services import types as type_service
from .common import VolumeView
from .views import body_of


def qos_view(row: QosSpecs) -> dict:
    return {"id": str(row.uuid), "name": row.name, "consumer": row.consumer, "specs": dict(row.specs)}


def qos_links(request, project_id: str, row: QosSpecs) -> list:
    base = catalog.base_url(request)
    return [{"rel": "self", "href": f"{base}/volume/v3/{project_id}/qos-specs/{row.uuid}"},
            {"rel": "bookmark", "href": f"{base}/volume/{project_id}/qos-specs/{row.uuid}"}]


def _force(value: str | None) -> bool:
    if value is None:
        return False
    text = value.strip().lower()
    if text in ("true", "1", "t", "yes", "y", "on"):
        return True
    if text in ("false", "0", "f", "no", "n", "off", ""):
        return False
    raise BadRequest(f"Invalid value {value!r} for force: a boolean is expected.")


class QosView(VolumeView):
    def admin(self, project_id, action):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, action)


class QosCollection(QosView):
    def get(self, request, project_id):
        self.admin(project_id, "volume:qos_specs:get_all")
        return Response({"qos_specs": [qos_view(row) for row in QosSpecs.objects.order_by("name")]})

    def post(self, request, project_id):
        self.admin(project_id, "volume:qos_specs:create")
        body = dict(body_of(request, "qos_specs"))
        if "name" not in body:
            raise BadRequest("Invalid input for field/attribute qos_specs: 'name' is a required property.")
        name = body.pop("name")
        consumer = body.pop("consumer", "back-end")
        row = qos_service.create(name, consumer, body)
        return Response({"qos_specs": qos_view(row), "links": qos_links(request, project_id, row)})


class QosItem(QosView):
    def get(self, request, project_id, qos_id):
        self.admin(project_id, "volume:qos_specs:get")
        row = qos_service.get(qos_id)
        return Response({"qos_specs": qos_view(row), "links": qos_links(request, project_id, row)})

    def put(self, request, project_id, qos_id):
        self.admin(project_id, "volume:qos_specs:update")
        row = qos_service.get(qos_id)
        body = body_of(request, "qos_specs")
        if not body:
            raise BadRequest("Invalid input for field/attribute qos_specs: at least one key is required.")
        return Response({"qos_specs": qos_service.set_keys(row, body)})

    def delete(self, request, project_id, qos_id):
        self.admin(project_id, "volume:qos_specs:delete")
        force = _force(request.query_params.get("force"))
        qos_service.delete(qos_service.get(qos_id), force)
        return Response(status=202)


class QosDeleteKeys(QosView):
    def put(self, request, project_id, qos_id):
        self.admin(project_id, "volume:qos_specs:update")
        row = qos_service.get(qos_id)
        body = request.data
        if not isinstance(body, dict) or "keys" not in body:
            raise BadRequest("Invalid input for field/attribute: 'keys' is a required property.")
        qos_service.delete_keys(row, body["keys"])
        return Response(status=202)


class QosAssociations(QosView):
    def get(self, request, project_id, qos_id):
        self.admin(project_id, "volume:qos_specs:get")
        row = qos_service.get(qos_id)
        return Response({"qos_associations": [
            {"association_type": "volume_type", "id": str(vtype.uuid), "name": vtype.name}
            for vtype in row.volume_types.order_by("name")
        ]})


class QosAssociate(QosView):
    """GET .../associate|disassociate?vol_type_id= and .../disassociate_all (Cinder's GETs)."""

    def get(self, request, project_id, qos_id, action):
        self.admin(project_id, "volume:qos_specs:update")
        row = qos_service.get(qos_id)
        if action == "disassociate_all":
            qos_service.disassociate(row)
            return Response(status=202)
        type_id = request.query_params.get("vol_type_id")
        if not type_id:
            raise BadRequest("Volume Type id must not be None.")
        vtype = type_service.get_type(self.ctx, type_id)
        if action == "associate":
            qos_service.associate(row, vtype)
        else:
            qos_service.disassociate(row, vtype)
        return Response(status=202)
