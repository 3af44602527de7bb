"""Compute v2.1 volume attachments of a server (nova's os-volume_attachments).

    GET    /servers/{id}/os-volume_attachments              {"volumeAttachments": [...]}
    POST   /servers/{id}/os-volume_attachments              {"volumeAttachment": {"volumeId",
                                                              "device"?}} -> 200 + the attachment
    GET    /servers/{id}/os-volume_attachments/{volume_id}  one attachment
    DELETE /servers/{id}/os-volume_attachments/{volume_id}  202 once the guest let go
    PUT    /servers/{id}/os-volume_attachments/{volume_id}  (admins) Nova's swap: the volumes
        are looked up as Nova does (404s), then refused with a 400: swapping is not offered

A volume that is not available is a 400, a server in a state that does not allow it a 409,
a volume not attached to this server a 404 (as Nova). An attachment shows its device `tag` from
compute microversion 2.70; `delete_on_termination` is taken on attach and shown from 2.79 (a
volume attached so is deleted with its server).
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.api.base import api_version, parse_bool
from compute.api.servers import ServerAPIView, check_object

from ..services import attachments
from ..services import volumes as volume_service


TAG_VERSION = (2, 70)
DELETE_ON_TERMINATION_VERSION = (2, 79)


def attachment_body(request, attachment) -> dict:
    body = attachments.as_dict(attachment)
    version = api_version(request)
    if version >= TAG_VERSION:
        body["tag"] = attachment.tag
    if version >= DELETE_ON_TERMINATION_VERSION:
        body["delete_on_termination"] = attachment.delete_on_termination
    return body


class VolumeAttachmentCollection(ServerAPIView):
    def get(self, request, server_id):
        instance = self.server(server_id, "compute:os-volumes-attachments:index")
        rows = attachments.attachments_of(instance)
        return Response({"volumeAttachments": [attachment_body(request, row) for row in rows]})

    def post(self, request, server_id):
        instance = self.server(server_id, "compute:os-volumes-attachments:create")
        data = check_object(request.data, "body", {"volumeAttachment"})
        with_delete = api_version(request) >= DELETE_ON_TERMINATION_VERSION
        body = check_object(data.get("volumeAttachment"), "volumeAttachment",
                            {"volumeId", "device", "tag"} | ({"delete_on_termination"} if with_delete else set()))
        if not isinstance(body.get("volumeId"), str):
            raise BadRequest("Invalid input for field/attribute volumeAttachment: 'volumeId' is a required property.")
        delete = parse_bool(body.get("delete_on_termination", False), "delete_on_termination")
        attachment = attachments.attach(self.ctx, instance, body["volumeId"], body.get("device"), body.get("tag"),
                                        delete)
        return Response({"volumeAttachment": attachment_body(request, attachment)})


class VolumeAttachmentItem(ServerAPIView):
    def get(self, request, server_id, volume_id):
        instance = self.server(server_id, "compute:os-volumes-attachments:show")
        return Response({"volumeAttachment": attachment_body(request, attachments.get_attachment(instance, volume_id))})

    def put(self, request, server_id, volume_id):
        instance = self.server(server_id, "compute:os-volumes-attachments:swap")
        data = check_object(request.data, "body", {"volumeAttachment"})
        body = check_object(data.get("volumeAttachment"), "volumeAttachment", {"volumeId", "delete_on_termination"})
        if not isinstance(body.get("volumeId"), str):
            raise BadRequest("Invalid input for field/attribute volumeAttachment: 'volumeId' is a required property.")
        volume_service.get_volume(self.ctx, volume_id)  # 404s in Nova's order: the old volume,
        attachments.get_attachment(instance, volume_id)  # its attachment to this server,
        volume_service.get_volume(self.ctx, body["volumeId"])  # the new volume
        raise BadRequest("Swapping a server's volume is not supported by this cloud: detach it and attach the "
                         "other one.")

    def delete(self, request, server_id, volume_id):
        instance = self.server(server_id, "compute:os-volumes-attachments:delete")
        attachments.detach(self.ctx, instance, volume_id)
        return Response(status=202)
