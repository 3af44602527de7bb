"""Snapshots as the API sees them: made on the volume's host from an available volume (or an
in-use one with `force`, crash-consistent), counted in `snapshots` and `gigabytes`; a
volume with snapshots cannot be deleted."""
import logging

from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import Invalid, NotFound

from .. import states
from ..models import Snapshot, Volume
from .volumes import _uuid, reserve, soft_delete, transition, type_name, validate_metadata, validate_text, with_type

log = logging.getLogger(__name__)


def get_snapshot(ctx, snapshot_id) -> Snapshot:
    snapshot = Snapshot.objects.select_related("volume").filter(uuid=_uuid(snapshot_id, "Snapshot")).first()
    if snapshot is None or (ctx is not None and not ctx.is_admin and snapshot.project_id != ctx.project_id):
        raise NotFound(f"Snapshot {snapshot_id} could not be found.")
    return snapshot


def snapshots_for(ctx, all_tenants: bool = False, filters: dict | None = None):
    qs = Snapshot.objects.select_related("volume")
    if not (all_tenants and ctx.is_admin):
        qs = qs.filter(project_id=ctx.project_id)
    for key, value in (filters or {}).items():
        if key in ("name", "status"):
            qs = qs.filter(**{key: value})
        elif key == "volume_id":
            qs = qs.filter(volume__uuid=_uuid(value, "Volume"))
    return qs


def create_snapshot(ctx, volume: Volume, name=None, description=None, force: bool = False,
                    metadata=None) -> Snapshot:
    name, description = validate_text(name, "name"), validate_text(description, "description")
    metadata = validate_metadata(metadata)
    allowed = (states.AVAILABLE, states.IN_USE) if force else (states.AVAILABLE,)
    with transaction.atomic():
        locked = Volume.objects.select_for_update().get(pk=volume.pk)
        if locked.status not in allowed:
            raise Invalid(f"Invalid volume: Volume {volume.uuid} status must be available"
                          f"{' or in-use' if force else ''}, but current status is: {locked.status}.")
        reserve(locked.project_id, with_type({"snapshots": 1, "gigabytes": locked.size}, type_name(locked)),
                locked.size)
        snapshot = Snapshot.objects.create(
            volume=locked, name=name, description=description, size=locked.size, project_id=ctx.project_id,
            user_id=ctx.user_id, host=locked.host, metadata=metadata,
        )
        rpc.create_volume_snapshot(locked.host, snapshot.id)
    return snapshot


def update_snapshot(ctx, snapshot: Snapshot, name=None, description=None) -> Snapshot:
    fields = []
    if name is not None:
        snapshot.name = validate_text(name, "name")
        fields.append("name")
    if description is not None:
        snapshot.description = validate_text(description, "description")
        fields.append("description")
    if fields:
        snapshot.save(update_fields=[*fields, "updated_at"])
    return snapshot


def delete_snapshot(ctx, snapshot: Snapshot) -> None:
    with transaction.atomic():
        if not transition(Snapshot, snapshot.pk, states.SNAPSHOT_DELETABLE, states.DELETING):
            raise Invalid(f"Invalid snapshot: Snapshot status must be available or error, but current status "
                          f"is: {snapshot.status}.")
        rpc.delete_volume_snapshot(snapshot.host, snapshot.id)


def finish_delete(snapshot_pk: int) -> bool:
    return soft_delete(Snapshot, snapshot_pk, "snapshots")


SNAPSHOT_RESETTABLE = (states.CREATING, states.AVAILABLE, states.DELETING, states.ERROR, states.ERROR_DELETING)


def reset_status(snapshot: Snapshot, status) -> None:
    """Cinder's os-reset_status of a snapshot (admins): only the row changes."""
    if status not in SNAPSHOT_RESETTABLE:
        raise Invalid(f"Invalid input received: status must be one of {', '.join(SNAPSHOT_RESETTABLE)}.")
    Snapshot.objects.filter(pk=snapshot.pk).update(status=status, updated_at=timezone.now())


# Cinder's os-update_snapshot_status: what the one that made or deletes a snapshot outside
# Cinder (Nova's assisted snapshots) reports; only these steps are allowed
STATUS_UPDATES = {
    states.CREATING: (states.CREATING, states.AVAILABLE, states.ERROR),
    states.DELETING: (states.DELETING, states.ERROR_DELETING),
}


def _progress(value) -> str:
    text = str(value).strip()
    number = text[:-1] if text.endswith("%") else text
    if not number.isdigit() or int(number) > 100:
        raise Invalid(f"Invalid input received: progress must be a percentage such as '80%', got {value!r}.")
    return f"{int(number)}%"


def update_status(snapshot: Snapshot, status, progress=None) -> None:
    allowed = STATUS_UPDATES.get(snapshot.status, ())
    if not isinstance(status, str) or status not in allowed:
        raise Invalid(f"Invalid input received: a snapshot in status {snapshot.status} cannot be updated to "
                      f"{status!r}" + (f" (allowed: {', '.join(allowed)})." if allowed else "."))
    fields = {} if progress is None else {"progress": _progress(progress)}
    if not transition(Snapshot, snapshot.pk, (snapshot.status,), status, **fields):
        raise Invalid(f"Invalid snapshot: Snapshot {snapshot.uuid} changed status; try again.")


def force_delete(snapshot: Snapshot) -> None:
    """Cinder's os-force_delete of a snapshot (admins): delete it whatever its status."""
    with transaction.atomic():
        statuses = tuple(s for s in states.SNAPSHOT_STATUSES if s != states.DELETED)
        if not transition(Snapshot, snapshot.pk, statuses, states.DELETING):
            raise Invalid(f"Invalid snapshot: Snapshot {snapshot.uuid} is already deleted.")
        rpc.delete_volume_snapshot(snapshot.host, snapshot.id)
