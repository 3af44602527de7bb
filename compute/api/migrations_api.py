"""`GET /os-migrations` (admins): the migration records, in Nova's 2.1 shape (links and
migration_type come with 2.23). Filters: host (source or destination), status,
instance_uuid, migration_type, source_compute. From 2.59 each shows its `uuid`, the list pages
(`limit`, `marker`: a migration uuid; `migrations_links`) and filters on `changes-since`
(updated_at; from 2.66 also `changes-before`), and unknown query parameters are a 400."""
from rest_framework.response import Response

from compute.services import migration_records
from identity.services.policy import enforce

from cloudproj.api.errors import BadRequest

from .base import ComputeAPIView, api_version, isotime, marker_page
from .servers import CHANGES_BEFORE_VERSION, changes_filter

FILTERS = ("host", "status", "instance_uuid", "migration_type", "source_compute")
PAGING_VERSION = (2, 59)


def migration_body(row) -> dict:
    return {
        "id": row.pk,
        "status": row.status,
        "instance_uuid": str(row.instance_uuid),
        "source_node": row.source_node,
        "source_compute": row.source_compute,
        "dest_node": row.dest_node,
        "dest_compute": row.dest_compute,
        "dest_host": row.dest_host,
        "old_instance_type_id": row.old_instance_type_id,
        "new_instance_type_id": row.new_instance_type_id,
        "created_at": isotime(row.created_at),
        "updated_at": isotime(row.updated_at),
    }


class MigrationListView(ComputeAPIView):
    def get(self, request):
        enforce(self.ctx, "compute:migrations:index")
        params = request.query_params
        filters = {name: params.get(name) for name in FILTERS}
        rows = migration_records.list_migrations(**filters)
        version = api_version(request)
        if version < PAGING_VERSION:
            return Response({"migrations": [migration_body(row) for row in rows]})
        known = set(FILTERS) | {"limit", "marker", "changes-since"} | (
            {"changes-before"} if version >= CHANGES_BEFORE_VERSION else set())
        unknown = sorted(set(params) - known)
        if unknown:
            raise BadRequest(f"Invalid input for query parameters: additional properties are not allowed "
                             f"({', '.join(unknown)}).")
        rows, _changed = changes_filter(rows, params, version)
        page, next_links = marker_page(request, rows, lambda row: str(row.uuid), "os-migrations")
        body = {"migrations": [{**migration_body(row), "uuid": str(row.uuid)} for row in page]}
        if next_links:
            body["migrations_links"] = next_links
        return Response(body)
