"""Key pairs (`/os-keypairs`): thin views over compute.services.keypairs.

Nova v2.1 shapes: the list wraps each item in {"keypair": ...}; create answers 200 with the
generated private key (only then, only once); delete answers 202. Admins act on another
user's key pairs with `?user_id=` (or `user_id` in the create body, as Nova 2.10 does)."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.services import keypairs as svc
from identity.models import User
from identity.services.policy import enforce

from .base import ComputeAPIView, isotime

CREATE_FIELDS = {"name", "public_key", "type", "user_id"}


def keypair_summary(keypair) -> dict:
    return {
        "name": keypair.name,
        "public_key": keypair.public_key,
        "fingerprint": keypair.fingerprint,
        "type": keypair.type,
    }


def keypair_created(keypair, private_key: str | None) -> dict:
    body = {**keypair_summary(keypair), "user_id": keypair.user_id}
    if private_key is not None:
        body["private_key"] = private_key
    return body


def keypair_detail(keypair) -> dict:
    return {
        **keypair_summary(keypair),
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
        if user_id is None:
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
        return Response({"keypairs": [{"keypair": keypair_summary(k)} for k in keypairs]})

    def post(self, request):
        data = self.body("keypair", CREATE_FIELDS, {"name"})
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
        return Response({"keypair": keypair_created(keypair, private_key)})


class KeypairView(KeypairAPIView):
    def get(self, request, name):
        _user, keypair = self.get_keypair("show", name)
        return Response({"keypair": keypair_detail(keypair)})

    def delete(self, request, name):
        user, keypair = self.get_keypair("delete", name)
        svc.delete_keypair(user, keypair.name)
        return Response(status=202)
