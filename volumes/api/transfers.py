"""Volume transfers (Cinder's os-volume-transfer, microversion 3.0; volumes.services.transfers):

    POST   /v3/{project}/os-volume-transfer                {"transfer": {"volume_id", "name"?}} 202:
                                                          the transfer with its `auth_key` (only now)
    GET    /v3/{project}/os-volume-transfer[/detail]      the project's transfers (?all_tenants=1: admins)
    GET    /v3/{project}/os-volume-transfer/{id}          one of them
    DELETE /v3/{project}/os-volume-transfer/{id}          202: taken back, the volume available again
    POST   /v3/{project}/os-volume-transfer/{id}/accept   {"accept": {"auth_key"}} 202: the volume
                                                          is the caller's project's now
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.api.base import isotime
from identity.services import catalog, policy

from ..services import transfers as transfer_service
from ..services import volumes as volume_service
from .common import VolumeView
from .views import truthy


def _links(request, project_id: str, transfer) -> list:
    base = catalog.base_url(request)
    return [
        {"rel": "self", "href": f"{base}/volume/v3/{project_id}/os-volume-transfer/{transfer.uuid}"},
        {"rel": "bookmark", "href": f"{base}/volume/{project_id}/os-volume-transfer/{transfer.uuid}"},
    ]


def transfer_summary(request, transfer, project_id: str | None = None) -> dict:
    return {"id": str(transfer.uuid), "name": transfer.name or None, "volume_id": str(transfer.volume.uuid),
            "links": _links(request, project_id or transfer.volume.project_id, transfer)}


def transfer_detail(request, transfer) -> dict:
    return {**transfer_summary(request, transfer), "created_at": isotime(transfer.created_at)}


class TransferCollection(VolumeView):
    detail = False

    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:transfers:get_all", {"project_id": self.ctx.project_id})
        rows = transfer_service.transfers_for(self.ctx, truthy(request.query_params.get("all_tenants", "0")))
        render = transfer_detail if self.detail else transfer_summary
        return Response({"transfers": [render(request, row) for row in rows]})

    def post(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:transfers:create", {"project_id": self.ctx.project_id})
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("transfer"), dict):
            raise BadRequest("Missing required element 'transfer' in request body.")
        body = data["transfer"]
        unknown = sorted(set(body) - {"volume_id", "name", "no_snapshots"})
        if unknown:
            raise BadRequest(f"Invalid input for field/attribute transfer: additional properties are not allowed "
                             f"({', '.join(unknown)}).")
        if not isinstance(body.get("volume_id"), str):
            raise BadRequest("Invalid input for field/attribute transfer: 'volume_id' is a required property.")
        volume = volume_service.get_volume(self.ctx, body["volume_id"])
        policy.enforce(self.ctx, "volume:transfers:create", {"project_id": volume.project_id})
        transfer, key = transfer_service.create_transfer(self.ctx, volume, body.get("name"))
        return Response({"transfer": {**transfer_detail(request, transfer), "auth_key": key}}, status=202)


class TransferDetailCollection(TransferCollection):
    detail = True
    http_method_names = ["get", "head", "options"]


class TransferItem(VolumeView):
    def get(self, request, project_id, transfer_id):
        self.check_url_project(project_id)
        transfer = transfer_service.get_transfer(self.ctx, transfer_id)
        policy.enforce(self.ctx, "volume:transfers:get", {"project_id": transfer.volume.project_id})
        return Response({"transfer": transfer_detail(request, transfer)})

    def delete(self, request, project_id, transfer_id):
        self.check_url_project(project_id)
        transfer = transfer_service.get_transfer(self.ctx, transfer_id)
        policy.enforce(self.ctx, "volume:transfers:delete", {"project_id": transfer.volume.project_id})
        transfer_service.delete_transfer(transfer)
        return Response(status=202)


class TransferAccept(VolumeView):
    http_method_names = ["post", "options"]

    def post(self, request, project_id, transfer_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:transfers:accept", {"project_id": self.ctx.project_id})
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("accept"), dict) or \
                not isinstance(data["accept"].get("auth_key"), str):
            raise BadRequest("Missing required element 'accept' with an 'auth_key' in request body.")
        transfer = transfer_service.get_transfer(self.ctx, transfer_id, for_accept=True)
        transfer_service.accept_transfer(self.ctx, transfer, data["accept"]["auth_key"])
        return Response({"transfer": transfer_summary(request, transfer, self.ctx.project_id)}, status=202)
