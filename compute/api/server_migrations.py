"""A server's live migrations in progress (Nova's server migrations, admins):

    GET    /servers/{id}/migrations                 200   compute:servers:migrations:index
    GET    /servers/{id}/migrations/{mid}           200   compute:servers:migrations:show (404 unless in progress)
    DELETE /servers/{id}/migrations/{mid}           202   compute:servers:migrations:delete: abort
    POST   /servers/{id}/migrations/{mid}/action    202   compute:servers:migrations:force_complete,
           {"force_complete": null}

Nova introduced them at 2.22 (force_complete), 2.23 (index, show) and 2.24 (abort); this
cloud's MAX_VERSION is below those, so they are served at every version for now (gate them on
api_version once the negotiated range reaches 2.24). Abort and force-complete of a migration
that is over (or not live) are 400, as Nova. The work is compute/services/live_migration.py's.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest

from .base import api_version, isotime
from .servers import ServerAPIView
from compute.services import live_migration


def server_migration_body(request, row) -> dict:
    body = {
        "id": row.pk,
        "server_uuid": str(row.instance_uuid),
        "status": row.status,
        "source_compute": row.source_compute,
        "source_node": row.source_node,
        "dest_compute": row.dest_compute,
        "dest_node": row.dest_node,
        "dest_host": row.dest_host,
        "memory_total_bytes": row.memory_total,
        "memory_processed_bytes": row.memory_processed,
        "memory_remaining_bytes": row.memory_remaining,
        "disk_total_bytes": row.disk_total,
        "disk_processed_bytes": row.disk_processed,
        "disk_remaining_bytes": row.disk_remaining,
        "created_at": isotime(row.created_at),
        "updated_at": isotime(row.updated_at),
    }
    if api_version(request) >= (2, 59):
        body["uuid"] = str(row.uuid)
    return body


class ServerMigrationListView(ServerAPIView):
    def get(self, request, server_id):
        instance = self.server(server_id, "compute:servers:migrations:index")
        rows = live_migration.server_migrations(instance)
        return Response({"migrations": [server_migration_body(request, row) for row in rows]})


class ServerMigrationView(ServerAPIView):
    def get(self, request, server_id, migration_id):
        instance = self.server(server_id, "compute:servers:migrations:show")
        row = live_migration.get_server_migration(instance, migration_id)
        return Response({"migration": server_migration_body(request, row)})

    def delete(self, request, server_id, migration_id):
        instance = self.server(server_id, "compute:servers:migrations:delete")
        live_migration.abort(self.ctx, instance, migration_id)
        return Response(status=202)


class ServerMigrationActionView(ServerAPIView):
    def post(self, request, server_id, migration_id):
        body = request.data
        if not isinstance(body, dict) or set(body) != {"force_complete"} or body["force_complete"] not in (None, {}):
            raise BadRequest("Invalid input for the migration action: the body must be {\"force_complete\": null}.")
        instance = self.server(server_id, "compute:servers:migrations:force_complete")
        live_migration.force_complete(self.ctx, instance, migration_id)
        return Response(status=202)
