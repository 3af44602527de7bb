"""A server's live migrations (admins): Nova's servers/{id}/migrations.

    POST   /servers/{id}/migrations/{mid}/action {"force_complete": null}   2.22+  202
    GET    /servers/{id}/migrations                                          2.23+  the live migrations in progress
    GET    /servers/{id}/migrations/{mid}                                    2.23+  one of them (404 otherwise)
    DELETE /servers/{id}/migrations/{mid}                                    2.24+  abort: 202
                                                                             (2.65: a queued one too)
    from 2.59 each migration shows its uuid

Below its version each call is a 404. A server that is not live-migrating answers 409. The
checks are compute/services/migration_records.py's, the work compute/services/live_migration.py's."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.services import migration_records

from .base import api_version, isotime
from .servers import ServerAPIView

def server_migration_body(row, version) -> dict:
    body = {
        "id": row.pk, "server_uuid": str(row.instance_uuid), "status": row.status,
        "source_compute": row.source_compute, "source_node": row.source_node,
        "dest_compute": row.dest_compute, "dest_node": row.dest_node, "dest_host": row.dest_host,
        # libvirt's job counters, recorded by the source while the migration runs
        "memory_total_bytes": row.memory_total, "memory_processed_bytes": row.memory_processed,
        "memory_remaining_bytes": row.memory_remaining, "disk_total_bytes": row.disk_total,
        "disk_processed_bytes": row.disk_processed, "disk_remaining_bytes": row.disk_remaining,
        "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at),
    }
    if version >= (2, 59):
        body["uuid"] = str(row.uuid)
    return body


class ServerMigrationAPIView(ServerAPIView):
    def since(self, version: tuple) -> None:
        if api_version(self.request) < version:
            raise NotFound("The resource could not be found.")


class ServerMigrationListView(ServerMigrationAPIView):
    def get(self, request, server_id):
        self.since((2, 23))
        instance = self.server(server_id, "compute:servers:migrations:index")
        rows = migration_records.live_migrations_in_progress(instance)
        return Response({"migrations": [server_migration_body(row, api_version(request)) for row in rows]})


class ServerMigrationView(ServerMigrationAPIView):
    def get(self, request, server_id, migration_id):
        self.since((2, 23))
        instance = self.server(server_id, "compute:servers:migrations:show")
        return Response({"migration": server_migration_body(
            migration_records.get_live_migration(instance, migration_id), api_version(request))})

    def delete(self, request, server_id, migration_id):
        self.since((2, 24))
        instance = self.server(server_id, "compute:servers:migrations:delete")
        migration_records.abort(self.ctx, instance, migration_id, queued_too=api_version(request) >= (2, 65))
        return Response(status=202)


class ServerMigrationActionView(ServerMigrationAPIView):
    def post(self, request, server_id, migration_id):
        self.since((2, 22))
        data = request.data
        if not isinstance(data, dict) or set(data) != {"force_complete"} or data["force_complete"] is not None:
            raise BadRequest("Invalid input: the body must be {\"force_complete\": null}.")
        instance = self.server(server_id, "compute:servers:migrations:force_complete")
        migration_records.force_complete(self.ctx, instance, migration_id)
        return Response(status=202)
