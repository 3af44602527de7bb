"""Image members (`/v2/images/{id}/members[/{member_id}]`), Glance v2 shapes."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from images.services import members

from .common import ImageAPIView, glance_time


def member_body(member) -> dict:
    return {
        "image_id": str(member.image_id),
        "member_id": member.member_id,
        "status": member.status,
        "created_at": glance_time(member.created_at),
        "updated_at": glance_time(member.updated_at),
        "schema": "/v2/schemas/member",
    }


def _field(request, name: str):
    body = request.data
    if not isinstance(body, dict) or name not in body:
        raise BadRequest(f"The request body must be a JSON object with '{name}'.")
    return body[name]


class MemberListView(ImageAPIView):
    def get(self, request, image_id):
        ctx = self.ctx
        image = self.image(image_id, "image:get_members")
        rows = members.list_members(image, ctx.project_id, ctx.is_admin)
        return Response({"members": [member_body(m) for m in rows], "schema": "/v2/schemas/members"})

    def post(self, request, image_id):
        image = self.image(image_id, "image:add_member")
        return Response(member_body(members.add_member(image, _field(request, "member"))))


class MemberView(ImageAPIView):
    def get(self, request, image_id, member_id):
        ctx = self.ctx
        image = self.image(image_id, "image:get_member")
        return Response(member_body(members.get_member(image, member_id, ctx.project_id, ctx.is_admin)))

    def put(self, request, image_id, member_id):
        ctx = self.ctx
        image = self.image(image_id, "image:modify_member")
        status = _field(request, "status")
        return Response(member_body(members.set_member_status(image, member_id, status, ctx.project_id)))

    def delete(self, request, image_id, member_id):
        image = self.image(image_id, "image:delete_member")
        members.remove_member(image, member_id)
        return Response(status=204)
