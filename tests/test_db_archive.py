"""`./manage.py db archive_deleted_rows` and `db purge` on PostgreSQL: what moves to the shadow
tables, what stays, what the commands print."""
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from cloudproj.testing.factories import make_instance, make_project_user
from compute.models import Flavor, Instance, InstanceAction, InstanceActionEvent, InstanceFault
from compute.services.actions import record_fault, start_action
from volumes.models import Volume

pytestmark = pytest.mark.django_db


def rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()[0]


def db(*args) -> str:
    out = io.StringIO()
    call_command("db", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def world():
    project, user = make_project_user("arch")
    old = timezone.now() - timedelta(days=400)
    gone = [make_instance(project, user, display_name=f"gone-{i}", deleted_at=old + timedelta(minutes=i))
            for i in range(3)]
    recent = make_instance(project, user, display_name="recent", deleted_at=timezone.now())
    live = make_instance(project, user, display_name="live")
    for instance in [*gone, recent, live]:
        action = start_action(instance, "create", request_id=f"req-{instance.display_name}")
        InstanceActionEvent.objects.create(action=action, event="spawn")
        record_fault(instance, "boom")
    flavor_used = Flavor.objects.create(flavorid="used", name="used", memory_mb=64, vcpus=1, deleted_at=old)
    Instance.objects.filter(pk=live.pk).update(flavor=flavor_used)
    Flavor.objects.create(flavorid="unused", name="unused", memory_mb=64, vcpus=1, deleted_at=old)
    Volume.objects.create(size=1, availability_zone="nova", project=project, user=user, deleted_at=old)
    from compute.models import Aggregate
    Aggregate.objects.create(name="old-aggregate", deleted_at=old)
    Aggregate.objects.create(name="live-aggregate")
    return {"gone": gone, "recent": recent, "live": live}


def test_archive_moves_deleted_rows_and_dependents_and_keeps_the_rest(world):
    out = db("archive_deleted_rows", "--before", (timezone.now() - timedelta(days=30)).date().isoformat())

    table = {line.split()[0]: int(line.split()[-1]) for line in out.splitlines()[1:]}
    assert table == {"compute_instance": 3, "compute_instanceaction": 3, "compute_instanceactionevent": 3,
                     "compute_instancefault": 3, "compute_flavor": 1, "volumes_volume": 1, "compute_aggregate": 1}
    assert out.splitlines()[0].split() == ["Table", "Number", "of", "Rows", "Archived"]
    left = set(Instance.all_objects.values_list("display_name", flat=True))
    assert left == {"recent", "live"}
    assert InstanceAction.objects.count() == InstanceFault.objects.count() == 2
    assert set(Flavor.all_objects.values_list("flavorid", flat=True)) >= {"used"}  # still named by an instance
    assert not Flavor.all_objects.filter(flavorid="unused").exists()
    assert rows("shadow_compute_instance") == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT display_name, shadow_deleted_at FROM shadow_compute_instance ORDER BY id")
        shadow = cursor.fetchall()
    assert [name for name, _d in shadow] == ["gone-0", "gone-1", "gone-2"]
    assert [d for _n, d in shadow] == [i.deleted_at for i in world["gone"]]
    assert db("archive_deleted_rows", "--before", "2000-01-01").strip() == "Nothing was archived."


def test_until_complete_in_small_batches_then_purge(world):
    err = io.StringIO()
    call_command("db", "archive_deleted_rows", "--max-rows", "1", "--until-complete", stdout=io.StringIO(),
                 stderr=err)
    assert err.getvalue().count("archived a batch") == 4  # 4 deleted instances, one per batch
    assert set(Instance.all_objects.values_list("display_name", flat=True)) == {"live"}
    assert rows("shadow_compute_instance") == 4

    out = db("purge", "--before", (timezone.now() - timedelta(days=30)).isoformat())
    purged = {line.split()[0]: int(line.split()[-1]) for line in out.splitlines()[1:]}
    assert purged["shadow_compute_instance"] == 3 and purged["shadow_compute_instancefault"] == 3
    assert rows("shadow_compute_instance") == 1  # "recent" was deleted after the date
    db("purge", "--all")
    assert rows("shadow_compute_instance") == rows("shadow_compute_instanceaction") == 0
    assert db("purge", "--all").strip() == "Nothing was purged."


def test_shadow_table_gains_a_column_the_live_table_got(world):
    db("archive_deleted_rows", "--max-rows", "1")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE shadow_compute_instance DROP COLUMN hostname")  # an older shadow table
    db("archive_deleted_rows", "--max-rows", "1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(hostname) FROM shadow_compute_instance")
        assert cursor.fetchone()[0] == 1  # the second batch's row carries it again


@pytest.mark.parametrize("args, message", [
    (["purge"], "one of the arguments --before --all is required"),
    (["purge", "--before", "yesterday"], "Invalid date 'yesterday'"),
    (["archive_deleted_rows", "--max-rows", "0"], "must be a positive integer"),
    (["archive_deleted_rows", "--before", "2024-13-45"], "Invalid date"),
])
def test_bad_arguments_are_one_line_errors(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("db", *args, stdout=io.StringIO())
