"""Key pairs (`/os-keypairs`): thin views over compute.services.keypairs.

Nova's shapes per microversion: the list wraps each item in {"keypair": ...}; create answers
with the generated private key (only then, only once).
  2.1   no `type`; create answers 200, delete 202; the body takes only `name` and `public_key`.
  2.2   `type` (ssh | x509) in every body and accepted on create; create answers 201, delete 204.
  2.10  admins act on another user's key pairs with `?user_id=` (or `user_id` in the create
        body); below 2.10 the query parameter is ignored and the body field refused."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.services import keypairs as svc
from identity.models import User
from identity.services.policy import enforce

from .base import ComputeAPIView, api_version, isotime, marker_page

TYPE_VERSION = (2, 2)  # `type` in bodies, 201/204 status codes
USER_ID_VERSION = (2, 10)  # admins name another user
PAGING_VERSION = (2, 35)  # limit and marker (a key pair name), keypairs_links


def create_fields(version) -> set:
    fields = {"name", "public_key"}
    if version >= TYPE_VERSION:
        fields.add("type")
    if version >= USER_ID_VERSION:
        fields.add("user_id")
    return fields


def keypair_summary(keypair, version=TYPE_VERSION) -> dict:
    body = {
        "name": keypair.name,
        "public_key": keypair.public_key,
        "fingerprint": keypair.fingerprint,
    }
    if version >= TYPE_VERSION:
        body["type"] = keypair.type
    return body


def keypair_created(keypair, private_key: str | None, version=TYPE_VERSION) -> dict:
    body = {**keypair_summary(keypair, version), "user_id": keypair.user_id}
    if private_key is not None:
        body["private_key"] = private_key
    return body


def keypair_detail(keypair, version=TYPE_VERSION) -> dict:
    return {
        **keypair_summary(keypair, version),
        "user_id": keypair.user_id,
        "created_at": isotime(keypair.created_at),
        "updated_at": None,
        "deleted": False,
        "deleted_at": None,
        "id": keypair.id,
    }


class KeypairAPIView(ComputeAPIView):
    def target_user_id(self, user_id=None) -> str:
        """Whose key pairs: the caller's, or (admins) the `user_id` asked for."""
        if user_id is None and api_version(self.request) >= USER_ID_VERSION:
            user_id = self.request.query_params.get("user_id")
        if user_id is None or user_id == "":
            return self.ctx.user_id
        if not isinstance(user_id, str):
            raise BadRequest("Invalid input for field/attribute user_id: must be a string.")
        return user_id

    def authorize(self, action: str, user_id: str):
        """Enforce `action` on `user_id`'s key pairs; the User, or None if there is no such user."""
        enforce(self.ctx, f"compute:keypairs:{action}", {"user_id": user_id})
        if user_id == self.ctx.user_id:
            return self.ctx.user
        return User.objects.filter(pk=user_id).first()

    def get_keypair(self, action: str, name: str):
        user_id = self.target_user_id()
        user = self.authorize(action, user_id)
        if user is None:
            raise NotFound(f"Keypair {name} not found for user {user_id}")
        return user, svc.get_keypair(user, name)


class KeypairListView(KeypairAPIView):
    def get(self, request):
        user = self.authorize("index", self.target_user_id())
        keypairs = svc.list_keypairs(user) if user is not None else []
        version = api_version(request)
        if version < PAGING_VERSION:
            return Response({"keypairs": [{"keypair": keypair_summary(k, version)} for k in keypairs]})
        keypairs, links = marker_page(request, keypairs, lambda keypair: keypair.name, "os-keypairs")
        body = {"keypairs": [{"keypair": keypair_summary(k, version)} for k in keypairs]}
        if links:
            body["keypairs_links"] = links
        return Response(body)

    def post(self, request):
        version = api_version(request)
        data = self.body("keypair", create_fields(version), {"name"})
        user_id = self.target_user_id(data.get("user_id"))
        user = self.authorize("create", user_id)
        if user is None:
            raise NotFound(f"User {user_id} could not be found.")
        public_key = data.get("public_key")
        if "public_key" in data and not isinstance(public_key, str):
            raise BadRequest("Invalid input for field/attribute public_key: must be a string.")
        key_type = data.get("type", "ssh")
        if not isinstance(key_type, str):
            raise BadRequest("Invalid input for field/attribute type: must be a string.")
        # key_pairs is counted per user against the limit of the owner's project
        project = self.ctx.project if user.pk == self.ctx.user_id else (user.default_project or self.ctx.project)
        keypair, private_key = svc.create_keypair(user, data["name"], public_key, key_type, project=project)
        status = 201 if version >= TYPE_VERSION else 200
        return Response({"keypair": keypair_created(keypair, private_key, version)}, status=status)


class KeypairView(KeypairAPIView):
    def get(self, request, name):
        _user, keypair = self.get_keypair("show", name)
        return Response({"keypair": keypair_detail(keypair, api_version(request))})

    def delete(self, request, name):
        user, keypair = self.get_keypair("delete", name)
        svc.delete_keypair(user, keypair.name)
        return Response(status=204 if api_version(request) >= TYPE_VERSION else 202)
