"""GET and DELETE /servers/{id}/os-server-password: the password the guest posted to the
metadata service (encrypted by the guest with the key pair's public key; "" when none).
DELETE clears it (204), after which the guest may post a new one."""
from rest_framework.response import Response

from metadata.services import passwords

from .servers import ServerAPIView


class ServerPasswordView(ServerAPIView):
    def get(self, request, server_id):
        instance = self.server(server_id, "compute:os-server-password:show")
        return Response({"password": passwords.get(instance.uuid)})

    def delete(self, request, server_id):
        instance = self.server(server_id, "compute:os-server-password:clear")
        passwords.clear(instance.uuid)
        return Response(status=204)
