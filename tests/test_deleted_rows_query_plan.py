"""100,000 soft-deleted servers must not slow `GET /servers/detail`: the list query reaches the
live rows through an index that skips deleted ones (PostgreSQL's plan, with real rows and
fresh statistics), and the number of queries does not grow with the deleted rows."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudproj.testing.factories import make_instance
from compute.models import Instance

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
API = "/compute/v2.1"
DELETED, LIVE = 100_000, 300


def _clone(template: Instance, count: int, deleted: bool, project_id: str) -> None:
    """`count` copies of the template row, written by PostgreSQL itself (fast)."""
    columns = [f.column for f in Instance._meta.local_concrete_fields if f.column != "id"]
    override = {
        "uuid": "gen_random_uuid()",
        "project_id": "%s",
        "created_at": "now() - (g || ' seconds')::interval",
        "updated_at": "now() - (g || ' seconds')::interval",
        "deleted_at": "now() - (g || ' seconds')::interval" if deleted else "NULL",
        "vm_state": "'deleted'" if deleted else "'active'",
    }
    select = ", ".join(override.get(c, f'i."{c}"') for c in columns)
    target = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO compute_instance ({target}) SELECT {select} FROM compute_instance i, '
                       f'generate_series(1, %s) g WHERE i.id = %s', [project_id, count, template.pk])


def _plan(sql: str, params) -> dict:
    import json

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        value = cursor.fetchone()[0]
    return (json.loads(value) if isinstance(value, str) else value)[0]["Plan"]


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize("query", ["", "?all_tenants=1"])
def test_detail_list_skips_deleted_rows_by_index(admin_client, admin_account, query):
    _user, project, _token = admin_account
    template = make_instance(project, _user, vm_state="active", task_state=None)
    _clone(template, DELETED, deleted=True, project_id=project.id)
    _clone(template, LIVE, deleted=False, project_id=project.id)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE compute_instance")

    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(f"{API}/servers/detail{query}{'&' if query else '?'}limit=100")
    assert response.status_code == 200
    assert len(response.json()["servers"]) == 100
    listing = [q for q in captured.captured_queries
               if q["sql"].lstrip().startswith("SELECT") and 'FROM "compute_instance"' in q["sql"]
               and "LIMIT" in q["sql"]]
    assert listing, [q["sql"][:200] for q in captured.captured_queries]
    sql = listing[0]["sql"]
    plan = _plan(sql, None)  # the captured SQL has its parameters inlined: run it as is
    scans = [n for n in _nodes(plan) if n.get("Relation Name") == "compute_instance"]
    assert scans and all(n["Node Type"] != "Seq Scan" for n in scans), [n["Node Type"] for n in scans]
    removed = sum(n.get("Rows Removed by Filter", 0) for n in _nodes(plan))
    assert removed < 1000, f"the plan read and threw away {removed} rows: {[n['Node Type'] for n in scans]}"

    queries_with_many = len(captured.captured_queries)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(f"{API}/servers/detail{query}{'&' if query else '?'}limit=10")
    assert len(few.captured_queries) == queries_with_many  # independent of the page size
