"""The one soft-delete model: `objects` hides deleted rows, `all_objects` sees them, and the
migration from the flavor's old `deleted` flag keeps which flavors were deleted."""
import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from compute.models import Flavor
from images.models import Image
from network.models import Network

pytestmark = pytest.mark.django_db


def test_objects_hides_deleted_rows_and_all_objects_sees_them():
    flavor = Flavor.objects.create(flavorid="sd.1", name="sd.1", memory_mb=64, vcpus=1)
    assert not flavor.is_deleted
    flavor.soft_delete()
    assert flavor.is_deleted
    assert not Flavor.objects.filter(pk=flavor.pk).exists()
    assert Flavor.all_objects.get(pk=flavor.pk).deleted_at == flavor.deleted_at
    assert list(Flavor.all_objects.deleted().filter(pk=flavor.pk)) == [flavor]
    # a new flavor may take the deleted one's name and id
    Flavor.objects.create(flavorid="sd.1", name="sd.1", memory_mb=64, vcpus=1)


@pytest.mark.parametrize("model", [Flavor, Image, Network])
def test_related_access_and_refresh_see_deleted_rows(model):
    assert model._meta.base_manager_name == "all_objects"
    assert model._default_manager.name == "objects"


def test_soft_delete_keeps_the_time_given_and_saves_the_fields_named():
    image = Image.objects.create(name="sd", status=Image.ACTIVE)
    when = timezone.now() - datetime.timedelta(days=1)
    image.status = Image.DELETED
    image.soft_delete(when, update_fields=("status",))
    row = Image.all_objects.get(pk=image.pk)
    assert (row.status, row.deleted_at) == (Image.DELETED, when)


@pytest.mark.django_db(transaction=True)
def test_flavor_migration_turns_the_deleted_flag_into_deleted_at():
    executor = MigrationExecutor(connection)
    before, after = [("compute", "0003_instances_claims_keypairs")], [("compute", "0004_flavor_soft_delete_model")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("compute", "Flavor")
    stamp = timezone.now() - datetime.timedelta(days=2)
    gone = old.objects.create(flavorid="m.gone", name="m.gone", memory_mb=64, vcpus=1, deleted=True)
    old.objects.filter(pk=gone.pk).update(updated_at=stamp)
    dated = old.objects.create(flavorid="m.dated", name="m.dated", memory_mb=64, vcpus=1, deleted=True,
                               deleted_at=stamp)
    live = old.objects.create(flavorid="m.live", name="m.live", memory_mb=64, vcpus=1)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("compute", "Flavor")
    rows = {row.flavorid: row.deleted_at for row in new._base_manager.filter(pk__in=[gone.pk, dated.pk, live.pk])}
    assert rows == {"m.gone": stamp, "m.dated": stamp, "m.live": None}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
