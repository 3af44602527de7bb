"""Soft-deleted rows moved out of the live tables (Nova's `db archive_deleted_rows`), and the
archive emptied later (`db purge`).

    archive(max_rows=1000, before=None) -> {table: rows}   one batch, one transaction
    archive_until_complete(max_rows, before) -> {table: rows}
    purge(before=None) -> {shadow table: rows}             before=None: everything

A soft-deleted row (deleted_at set) and the rows that only mean something with it (an
instance's actions, their events, faults, group memberships; a volume's attachment; a
network's fixed IPs; an image's members; a flavor's extra specs and access list) are copied
into `shadow_<table>` and deleted from `<table>` in the same transaction. Shadow tables have
the live table's columns (no constraints, no indexes besides none) plus `shadow_deleted_at`
(when the resource was deleted: what `purge --before` compares) and `shadow_archived_at`.
They are created on first use, and a column a later migration adds to a live table is added
to its shadow table before rows are copied.

A deleted row that live rows still reference is kept (a flavor some instance row names, a
snapshot a volume was made from, a network whose fixed IPs a floating IP points at).
`max_rows` bounds the deleted resources of each kind per batch.
"""
import logging
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.utils import timezone

log = logging.getLogger(__name__)

SHADOW_PREFIX = "shadow_"
DELETED_COL = "shadow_deleted_at"
ARCHIVED_COL = "shadow_archived_at"


@dataclass
class Kind:
    """A soft-deleted model and its dependents as (model label, lookup path to the root)."""

    model: str
    dependents: list = field(default_factory=list)
    deleted: Q = field(default_factory=lambda: Q(deleted_at__isnull=False))

    def root(self):
        return apps.get_model(self.model)

    def blocked(self) -> Q:
        """Deleted rows still referenced by live rows (kept)."""
        return Q()


class FlavorKind(Kind):
    def blocked(self) -> Q:
        instances = apps.get_model("compute.Instance").all_objects.filter(flavor__isnull=False)
        return Q(pk__in=instances.values("flavor_id"))


class SnapshotKind(Kind):
    def blocked(self) -> Q:
        volumes = apps.get_model("volumes.Volume").all_objects.filter(snapshot__isnull=False)
        return Q(pk__in=volumes.values("snapshot_id"))


class NetworkKind(Kind):
    def blocked(self) -> Q:
        floating = apps.get_model("floating.FloatingIP").objects.filter(fixed_ip__isnull=False)
        held = apps.get_model("network.FixedIP").objects.filter(instance_uuid__isnull=False)
        return Q(pk__in=floating.values("fixed_ip__network_id")) | Q(pk__in=held.values("network_id"))


# Order matters: instances go before the flavors they name, volumes before their snapshots.
KINDS = (
    Kind("compute.Instance", [("compute.InstanceActionEvent", "action__instance"),
                              ("compute.InstanceAction", "instance"), ("compute.InstanceFault", "instance"),
                              ("secgroups.SecurityGroupMember", "instance"), ("compute.Claim", "instance")]),
    Kind("volumes.Volume", [("volumes.VolumeAttachment", "volume")]),
    SnapshotKind("volumes.Snapshot"),
    NetworkKind("network.Network", [("network.FixedIP", "network")]),
    Kind("images.Image", [("images.ImageMember", "image")]),
    FlavorKind("compute.Flavor", [("compute.FlavorExtraSpec", "flavor"), ("compute.FlavorAccess", "flavor")]),
    Kind("compute.Aggregate", [("compute.AggregateMetadata", "aggregate"), ("compute.AggregateHost", "aggregate")]),
)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def shadow_name(model) -> str:
    return SHADOW_PREFIX + model._meta.db_table


def _columns(model) -> list[tuple[str, str]]:
    return [(f.column, f.db_type(connection)) for f in model._meta.local_concrete_fields]


def ensure_shadow(model) -> str:
    """Create shadow_<table> if missing; add the columns it lacks. Returns its name."""
    name = shadow_name(model)
    timestamp = DateTimeField().db_type(connection)
    wanted = _columns(model) + [(DELETED_COL, timestamp), (ARCHIVED_COL, timestamp)]
    with connection.cursor() as cursor:
        if name not in connection.introspection.table_names(cursor):
            columns = ", ".join(f"{_q(col)} {kind} NULL" for col, kind in wanted)
            cursor.execute(f"CREATE TABLE {_q(name)} ({columns})")
            return name
        present = {c.name for c in connection.introspection.get_table_description(cursor, name)}
        for col, kind in wanted:
            if col not in present:
                cursor.execute(f"ALTER TABLE {_q(name)} ADD COLUMN {_q(col)} {kind} NULL")
    return name


def _copy_and_delete(model, queryset, deleted_path: str, now) -> int:
    """INSERT INTO shadow SELECT ... ; DELETE ... for the rows of `queryset`."""
    shadow = ensure_shadow(model)
    cols = [col for col, _kind in _columns(model)]
    names = [f.attname for f in model._meta.local_concrete_fields]
    select = queryset.order_by().annotate(
        _shadow_deleted=F(deleted_path), _shadow_archived=Value(now, output_field=DateTimeField()),
    ).values_list(*names, "_shadow_deleted", "_shadow_archived")
    sql, params = select.query.sql_with_params()
    target = ", ".join(_q(c) for c in [*cols, DELETED_COL, ARCHIVED_COL])
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {_q(shadow)} ({target}) {sql}", params)
        copied = cursor.rowcount
    deleted = queryset.order_by()._raw_delete(connection.alias)
    if copied != deleted:
        raise RuntimeError(f"archiving {model._meta.db_table}: copied {copied} rows but deleted {deleted}")
    return deleted


def _archive_kind(kind: Kind, max_rows: int, before, now) -> dict:
    root = kind.root()
    manager = getattr(root, "all_objects", root._default_manager)
    qs = manager.filter(kind.deleted).exclude(kind.blocked())
    if before is not None:
        qs = qs.filter(deleted_at__lt=before)
    ids = list(qs.order_by("deleted_at", "pk").values_list("pk", flat=True)[:max_rows])
    if not ids:
        return {}
    counts = {}
    for label, path in kind.dependents:
        model = apps.get_model(label)
        rows = model._default_manager.filter(**{f"{path}__in": ids})
        moved = _copy_and_delete(model, rows, f"{path}__deleted_at", now)
        if moved:
            counts[model._meta.db_table] = moved
    moved = _copy_and_delete(root, manager.filter(pk__in=ids), "deleted_at", now)
    counts[root._meta.db_table] = moved
    return counts


def archive(max_rows: int = 1000, before=None) -> dict:
    """One batch: at most `max_rows` deleted resources of each kind (deleted before `before`
    when given) with their dependents. Returns {table: rows moved}."""
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError("max_rows must be a positive integer")
    now = timezone.now()
    totals: dict[str, int] = {}
    with transaction.atomic():
        for kind in KINDS:
            for table, moved in _archive_kind(kind, max_rows, before, now).items():
                totals[table] = totals.get(table, 0) + moved
    if totals:
        log.info("archived deleted rows: %s", totals)
    return totals


def archive_until_complete(max_rows: int = 1000, before=None, progress=None) -> dict:
    totals: dict[str, int] = {}
    while True:
        batch = archive(max_rows, before)
        if not batch:
            return totals
        for table, moved in batch.items():
            totals[table] = totals.get(table, 0) + moved
        if progress is not None:
            progress(batch)


def shadow_tables() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(t for t in connection.introspection.table_names(cursor) if t.startswith(SHADOW_PREFIX))


def purge(before=None) -> dict:
    """Delete archived rows (of resources deleted before `before`; all when None)."""
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for table in shadow_tables():
            if before is None:
                cursor.execute(f"DELETE FROM {_q(table)}")
            else:
                cursor.execute(f"DELETE FROM {_q(table)} WHERE {_q(DELETED_COL)} < %s", [before])
            if cursor.rowcount:
                counts[table] = cursor.rowcount
    if counts:
        log.info("purged archived rows: %s", counts)
    return counts
