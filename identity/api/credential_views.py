"""/v3/credentials: Keystone's credential store (identity.services.credentials). A user manages
its own credentials; an admin anyone's. The blob is a JSON string, as Keystone returns it."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, Conflict, NotFound
from cloudproj.exceptions import CloudError, Conflict as ConflictError, NotFound as NotFoundError

from identity.services import credentials
from identity.services.policy import enforce
from .common import IdentityView


def credential_body(credential, v3_url: str) -> dict:
    return {
        "id": credential.id,
        "user_id": credential.user_id,
        "project_id": credential.project_id,
        "type": credential.type,
        "blob": credential.blob,
        "links": {"self": f"{v3_url}/credentials/{credential.id}"},
    }


def _api_error(exc: CloudError):
    if isinstance(exc, NotFoundError):
        return NotFound(exc.message)
    if isinstance(exc, ConflictError):
        return Conflict(exc.message)
    return BadRequest(exc.message)


class CredentialListView(IdentityView):
    def get(self, request):
        params = request.query_params
        user_id = params.get("user_id")
        enforce(self.ctx, "identity:list_credentials", {"user_id": self.ctx.user_id})
        if self.ctx.is_admin:
            found = credentials.list_credentials(user_id, params.get("type"))
        elif user_id in (None, self.ctx.user_id):  # a user sees its own credentials only
            found = credentials.list_credentials(self.ctx.user_id, params.get("type"))
        else:
            found = []
        return Response({"credentials": [credential_body(c, self.v3_url()) for c in found],
                         "links": self.collection_links()})

    def post(self, request):
        ref = self.body_object("credential")
        enforce(self.ctx, "identity:create_credential", {"user_id": ref.get("user_id")})
        try:
            credential = credentials.create(ref.get("user_id"), ref.get("type"), ref.get("blob"), ref.get("project_id"))
        except CloudError as exc:
            raise _api_error(exc) from None
        return Response({"credential": credential_body(credential, self.v3_url())}, status=201)


class CredentialDetailView(IdentityView):
    def _owner(self, action: str, credential_id: str) -> None:
        try:
            owner = credentials.owner_of(credential_id)
        except CloudError as exc:
            raise _api_error(exc) from None
        enforce(self.ctx, action, {"user_id": owner})

    def get(self, request, credential_id):
        self._owner("identity:get_credential", credential_id)
        return Response({"credential": credential_body(credentials.get(credential_id), self.v3_url())})

    def patch(self, request, credential_id):
        self._owner("identity:update_credential", credential_id)
        try:
            credential = credentials.update(credential_id, self.body_object("credential"))
        except CloudError as exc:
            raise _api_error(exc) from None
        return Response({"credential": credential_body(credential, self.v3_url())})

    def delete(self, request, credential_id):
        self._owner("identity:delete_credential", credential_id)
        credentials.delete(credential_id)
        return Response(status=204)
