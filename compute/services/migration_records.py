"""Migration records (os-migrations): every move of an instance between hosts. The code that
moves instances (resize, migrate, evacuate) writes compute.models.Migration rows; this
module lists them.

    list_migrations(host=None, status=None, instance_uuid=None, migration_type=None, source_compute=None)
    live_migrations_in_progress(instance) / get_live_migration(instance, id)   (2.23)
    force_complete(ctx, instance, id) (2.22) / abort(ctx, instance, id) (2.24): Nova's checks, then
    live_migration's request to the source
"""
import uuid as uuid_lib

from django.db.models import Q

from cloudproj.exceptions import Invalid, NotFound

from .. import states
from ..models import Migration
from . import live_migration


def list_migrations(host=None, status=None, instance_uuid=None, migration_type=None, source_compute=None):
    qs = Migration.objects.all()
    if host:
        qs = qs.filter(Q(source_compute=host) | Q(dest_compute=host))
    if status:
        qs = qs.filter(status=status)
    if instance_uuid:
        try:
            qs = qs.filter(instance_uuid=uuid_lib.UUID(str(instance_uuid)))
        except ValueError:
            return Migration.objects.none()
    if migration_type:
        qs = qs.filter(migration_type=migration_type)
    if source_compute:
        qs = qs.filter(source_compute=source_compute)
    return qs.order_by("-created_at", "-id")


# --- a server's live migrations (servers/{id}/migrations, microversions 2.22-2.24) ------------------

LIVE = "live-migration"
IN_PROGRESS = ("queued", "preparing", "running", "post-migrating")


def live_migrations_in_progress(instance):
    return Migration.objects.filter(instance_uuid=instance.uuid, migration_type=LIVE, status__in=IN_PROGRESS)


def get_live_migration(instance, migration_id) -> Migration:
    """The server's live migration in progress; 404 (as Nova) for any other."""
    row = None
    if str(migration_id).isdigit():
        row = Migration.objects.filter(pk=int(migration_id), instance_uuid=instance.uuid).first()
    if row is None:
        raise NotFound(f"Instance {instance.uuid} does not have a migration with id {migration_id}")
    if row.migration_type != LIVE or row.status not in IN_PROGRESS:
        raise NotFound(f"Migration {migration_id} for instance {instance.uuid} is not a live migration in progress")
    return row


def _check_migrating(ctx, instance, action: str) -> None:
    if instance.locked and not getattr(ctx, "is_admin", False):
        raise states.InstanceLocked(f"Instance {instance.uuid} is locked")
    if instance.task_state != states.task.MIGRATING:
        raise states.InstanceInvalidState(
            f"Cannot '{action}' instance {instance.uuid} while it is in task_state {instance.task_state}",
            action, "task_state", instance.task_state)


def force_complete(ctx, instance, migration_id) -> None:
    """2.22: 409 unless the server is live-migrating, 400 unless that migration is running."""
    _check_migrating(ctx, instance, "live_migrate_force_complete")
    row = Migration.objects.filter(pk=int(migration_id) if str(migration_id).isdigit() else None,
                                   instance_uuid=instance.uuid, status="running").first()
    if row is None:
        raise Invalid(f"Cannot find migration {migration_id} of instance {instance.uuid} with status running.")
    live_migration.force_complete(ctx, instance, migration_id)


def abort(ctx, instance, migration_id, queued_too: bool = False) -> None:
    """2.24: 409 unless the server is live-migrating, 404 for another migration, 400 unless it
    is still running or preparing (or, queued_too: compute API 2.65, queued)."""
    _check_migrating(ctx, instance, "live_migrate_abort")
    row = Migration.objects.filter(pk=int(migration_id) if str(migration_id).isdigit() else None,
                                   instance_uuid=instance.uuid).first()
    if row is None:
        raise NotFound(f"Instance {instance.uuid} does not have a migration with id {migration_id}")
    if row.migration_type != LIVE or row.status not in ("running", "preparing") + (("queued",) if queued_too else ()):
        raise Invalid(f"Migration {migration_id} state of instance {instance.uuid} is {row.status}. Cannot "
                      "abort live migration in this state.")
    live_migration.abort(ctx, instance, migration_id)
