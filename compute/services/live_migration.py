"""Live migration (Nova's os-migrateLive): the guest keeps running while libvirt copies its
memory (and, its disk not being shared, its qcow2 overlay) to another host. The state in
flight is an InstanceResize row of kind live-migration (compute/resize_models.py: the target's
claim, what the target prepared, an admin's abort or force-complete); the os-migrations row
(migration_type live-migration) carries the status and the progress. This module is the API
and scheduler side; what the hosts do is live_migration_host.py.

    live_migrate_server(ctx, instance, host, block_migration)   API: ACTIVE/PAUSED -> task migrating,
                                                                Migration queued
    schedule(uuid, request_id)          scheduler: the target chosen (or `host` through the
                                        filters) and claimed; Migration preparing -> the target
    (target) prepare -> (source) migrate -> completed, or (target) rollback -> error/cancelled
    server_migrations(instance)         the live migrations in progress (GET /servers/{id}/migrations)
    abort(ctx, instance, migration_id)  DELETE /servers/{id}/migrations/{mid}: the source cancels
                                        the libvirt job; the guest stays where it was
    force_complete(ctx, instance, migration_id)   the source pauses the guest so that the copy
                                        converges; it runs again on the target

A failure anywhere leaves the guest running on its source, the target's claim, files,
domain and host state gone, the Migration row `error` (`cancelled` after an abort) and a fault.
"""
import logging

from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import Conflict, Invalid, NotFound
from cloudproj.host.locks import instance_lock

from .. import states
from ..models import Instance, InstanceResize, Migration
from ..scheduler import NoValidHost
from ..scheduler.claims import ClaimFailed
from .actions import event, get_action
from .fault_injection import pause_point
from .instances import UnexpectedTaskState, begin, update_state
from .resize import _claim_destination, _rename_last_action, _request_id, _settle, check_move, flavor_fields, new_flavor_spec

log = logging.getLogger(__name__)

T = states.task
R = InstanceResize
# os-migrations statuses of a live migration (Nova's)
QUEUED, PREPARING, RUNNING, COMPLETED, ERROR, CANCELLED = (
    "queued", "preparing", "running", "completed", "error", "cancelled")
IN_PROGRESS = (QUEUED, PREPARING, RUNNING)
REQUESTS = ("abort", "force_complete")


def live_migrate_server(ctx, instance: Instance, host: str | None = None, block_migration=True) -> InstanceResize:
    """os-migrateLive (admins): 400 for an unknown `host` or the server's own, 409 unless
    ACTIVE or PAUSED (and not volume-backed: its disk is local). `block_migration` False
    (shared storage) is 400: no instance storage is shared between these hosts."""
    check_move(ctx, instance, "migrate_live", host)
    if block_migration is False:
        raise Invalid(f"Instance {instance.uuid} cannot be live migrated without block migration: the hosts of "
                      f"this cloud share no instance storage.")
    with transaction.atomic():
        begin(instance, "migrate_live", ctx, task_state=T.MIGRATING)
        _rename_last_action(instance, "live-migration", _request_id(ctx))
        record = InstanceResize.objects.create(
            instance=instance, request_id=_request_id(ctx), kind=R.LIVE, requested_host=host,
            old_flavor=flavor_fields(instance), new_flavor=flavor_fields(instance), old_vm_state=instance.vm_state,
            source_host=instance.host, source_node=instance.node,
        )
        migration = Migration.objects.create(
            instance_uuid=instance.uuid, source_compute=instance.host, source_node=instance.node,
            old_instance_type_id=instance.flavor_id, new_instance_type_id=instance.flavor_id,
            status=QUEUED, migration_type="live-migration", updated_at=timezone.now(),
        )
        record.migration_id = migration.pk
        record.save(update_fields=["migration_id"])
        rpc.live_migration_schedule(str(instance.uuid), _request_id(ctx))
    log.info("live migration of instance %s from %s requested (target %s)", instance.uuid, instance.host,
             host or "the scheduler's choice")
    return record


def set_migration(record: InstanceResize, status: str | None = None, **fields) -> None:
    """The os-migrations row of `record` follows (status, target, progress)."""
    if record.migration_id:
        if status is not None:
            fields["status"] = status
        Migration.objects.filter(pk=record.migration_id).update(
            dest_compute=record.dest_host, dest_node=record.dest_node, updated_at=timezone.now(), **fields)


def load(instance_uuid) -> tuple[Instance | None, InstanceResize | None]:
    instance = Instance.objects.filter(uuid=instance_uuid).first()
    record = None
    if instance is not None:
        record = InstanceResize.objects.filter(instance=instance, kind=R.LIVE).first()
    return instance, record


def schedule(instance_uuid, request_id: str) -> str | None:
    """On `scheduler`: the target chosen and claimed, then its preparation."""
    with instance_lock(f"resize-{instance_uuid}"):
        instance, record = load(instance_uuid)
        if instance is None or record is None or instance.task_state != T.MIGRATING or \
                record.status != R.PRE_MIGRATING:
            log.info("live migration of %s not scheduled: it is not waiting for a target", instance_uuid)
            return None
        action = get_action(instance, request_id, "live-migration")
        try:
            with event(action, "compute_check_can_live_migrate_destination"):
                record = _claim_destination(record, new_flavor_spec(instance, record))
        except (NoValidHost, ClaimFailed) as exc:
            log.warning("live migration of %s: %s", instance.uuid, getattr(exc, "message", exc))
            finish(instance, record, action, exc, status=ERROR)
            return None
        with transaction.atomic():
            record.status = R.MIGRATING
            record.save(update_fields=["status", "updated_at"])
            set_migration(record, PREPARING)
        rpc.live_migration_step(record.dest_host, "prepare", str(instance.uuid), request_id)
        log.info("live migration of instance %s: %s -> %s", instance.uuid, record.source_host, record.dest_host)
        return record.dest_host


def finish(instance: Instance, record: InstanceResize, action, exc, status: str, failed: bool = False) -> None:
    """The live migration is over and the guest is where it was: the target's claim given
    back, the record gone, task_state none, the Migration row `status`, a fault for `exc`
    (`failed`: the action ends in error, the fault was recorded by the source)."""
    _settle(instance, record, action, exc, expected=T.MIGRATING, failed=failed)
    Migration.objects.filter(pk=record.migration_id).update(status=status, updated_at=timezone.now())


# --- an admin's hand on a running live migration -----------------------------------------------


def server_migrations(instance: Instance):
    """The instance's live migrations in progress (Nova lists only those)."""
    return Migration.objects.filter(instance_uuid=instance.uuid, migration_type="live-migration",
                                    status__in=IN_PROGRESS).order_by("created_at", "id")


def get_server_migration(instance: Instance, migration_id) -> Migration:
    try:
        pk = int(migration_id)
    except (TypeError, ValueError):
        pk = None
    row = server_migrations(instance).filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise NotFound(f"Migration {migration_id} for instance {instance.uuid} does not exist or is not in "
                       f"progress.")
    return row


def _ask(instance: Instance, migration_id, request: str, allowed: tuple) -> Migration:
    row = Migration.objects.filter(pk=_int_or_none(migration_id), instance_uuid=instance.uuid).first()
    if row is None:
        raise NotFound(f"Migration {migration_id} for instance {instance.uuid} does not exist.")
    if row.migration_type != "live-migration":
        raise Invalid(f"Migration {migration_id} is not a live migration.")
    if row.status not in allowed:
        raise Invalid(f"Migration {migration_id} of instance {instance.uuid} is {row.status}: it cannot be "
                      f"{'aborted' if request == 'abort' else 'forced to complete'} now.")
    with transaction.atomic():
        updated = InstanceResize.objects.filter(instance=instance, kind=R.LIVE, migration_id=row.pk).update(
            live_request=request)
    if not updated:
        raise Conflict(f"Migration {migration_id} of instance {instance.uuid} is finishing.")
    log.info("live migration %s of instance %s: %s asked", row.pk, instance.uuid, request)
    return row


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def abort(ctx, instance: Instance, migration_id) -> Migration:
    """Cancel a live migration (Nova 2.24): queued or preparing, the source never starts it;
    running, the source cancels libvirt's job. 400 when it is over (or not a live one)."""
    return _ask(instance, migration_id, "abort", IN_PROGRESS)


def force_complete(ctx, instance: Instance, migration_id) -> Migration:
    """Force a running live migration to complete (Nova 2.22): the source pauses the guest
    (libvirt has no post-copy here) so that the copy converges; it runs again on the target.
    400 unless the migration is running."""
    return _ask(instance, migration_id, "force_complete", (RUNNING,))


def cancelled_before_start(instance: Instance, record: InstanceResize) -> bool:
    return InstanceResize.objects.filter(pk=record.pk, live_request="abort").exists()


def set_progress(instance: Instance, record: InstanceResize, stats: dict) -> str:
    """The job's statistics into the Migration row and the instance's progress; answers what
    an admin asked for meanwhile ("", "abort" or "force_complete")."""
    pause_point("live_migration", instance.uuid)  # tests: hold a running migration here
    fields = {name: stats[name] for name in ("memory_total", "memory_processed", "memory_remaining",
                                               "disk_total", "disk_processed", "disk_remaining") if name in stats}
    total = (stats.get("memory_total") or 0) + (stats.get("disk_total") or 0)
    done = (stats.get("memory_processed") or 0) + (stats.get("disk_processed") or 0)
    if fields:
        set_migration(record, **fields)
    if total:
        try:
            update_state(instance, expected_task_state=T.MIGRATING, progress=min(99, done * 100 // total))
        except UnexpectedTaskState:
            pass
    return InstanceResize.objects.filter(pk=record.pk).values_list("live_request", flat=True).first() or ""
