"""Resize: a server moves to another flavor, scheduled like a boot (Nova's resize, confirm,
revert). The state in flight is an InstanceResize row (compute/resize_models.py). This module
is the API, scheduler and periodic side; what the hosts do is resize_host.py.

API side (in the request):
    resize_server(ctx, instance, flavor)    RESIZE (resize_prep); quota for the growth
    confirm_resize(ctx, instance)           VERIFY_RESIZE -> ACTIVE (or SHUTOFF) on the new flavor
    revert_resize(ctx, instance)            VERIFY_RESIZE -> REVERT_RESIZE -> back on the old one
    migrate_server(ctx, instance, host)     cold migration (admins): the same flavor to another
                                            host (the scheduler's choice, or `host` through the
                                            filters), then the same steps, confirm and revert
Scheduler (queue `scheduler`):
    prep_resize(uuid, request_id)           filters + weighers for the new flavor, the claim on
                                            the chosen host (the source itself only with
                                            ALLOW_RESIZE_TO_SAME_HOST), then to the source
Hosts (compute.<host>):
    resize_instance(uuid, request_id)       source: power off, undefine, the instance directory
                                            kept aside as <name>_resize
    finish_resize(uuid, request_id)         destination: the disk copied and grown (qemu-img),
                                            the new flavor's domain started -> VERIFY_RESIZE
    confirm_on_source(uuid, request_id)     the old files and the old claim go
    revert_on_dest(uuid, request_id)        the new domain, files and claim go ...
    (to another host the disk travels through the shared image store: disk_transfer.py)
    finish_revert(uuid, request_id)         ... and the source starts on the old flavor again
Periodic:
    confirm_expired(now)                    VERIFY_RESIZE older than RESIZE_CONFIRM_WINDOW: confirmed
    recover_host(host)                      agent start: a step that was running when the agent
                                            died is rolled back (the guest back on the source)

Every failure rolls back to the source on the old flavor, running as it was, with a fault:
no claim, file, domain or address of the attempt is left.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import Conflict, Invalid, OverQuota
from cloudproj.host.locks import instance_lock
from identity.services import quotas

from .. import states
from ..models import ComputeNode, Flavor, Instance, InstanceAction, InstanceResize, Migration
from ..scheduler import NoValidHost, RequestSpec, get_scheduler, resize_claims
from ..scheduler.claims import ClaimFailed
from .actions import event, finish_action, get_action, record_fault
from .fault_injection import pause_point
from .instances import UnexpectedTaskState, begin, update_state
from . import volume_backed

log = logging.getLogger(__name__)

T = states.task
R = InstanceResize
RESIZE_SUFFIX = "_resize"
FLAVOR_FIELDS = ("flavorid", "flavor_name", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "swap",
                 "flavor_extra_specs")


def _request_id(ctx) -> str:
    return getattr(ctx, "request_id", None) or "-"


def flavor_fields(source) -> dict:
    """The instance's flavor columns from a Flavor (or an Instance)."""
    if isinstance(source, Flavor):
        return {
            "flavor_id": source.pk, "flavorid": source.flavorid, "flavor_name": source.name,
            "memory_mb": source.memory_mb, "vcpus": source.vcpus, "root_gb": source.root_gb,
            "ephemeral_gb": source.ephemeral_gb, "swap": source.swap,
            "flavor_extra_specs": dict(source.extra_specs.values_list("key", "value")),
        }
    return {"flavor_id": source.flavor_id, **{name: getattr(source, name) for name in FLAVOR_FIELDS}}


# --- API side ----------------------------------------------------------------------------------


def resize_server(ctx, instance: Instance, flavor: Flavor, auto_disk_config: bool | None = None) -> InstanceResize:
    """Ask for `flavor`: 400 for the same flavor, a disabled one or a smaller disk (a qcow2
    disk is never shrunk), 403 over quota for the growth, 409 unless ACTIVE or SHUTOFF.
    auto_disk_config (the request's OS-DCF:diskConfig, when it has one) is the server's from now."""
    states.check_allowed(instance, "resize", is_admin=getattr(ctx, "is_admin", False))
    volume_backed.refuse(instance, "resize")
    if not instance.host:
        raise Conflict(f"Cannot 'resize' instance {instance.uuid} while it has no host.")
    if flavor.flavorid == instance.flavorid:
        raise Invalid("When resizing, instances must change flavor!")
    if flavor.disabled:
        raise Invalid(f"Flavor {flavor.flavorid} is disabled.")
    if flavor.root_gb < instance.root_gb or (instance.root_gb and not flavor.root_gb):
        raise Invalid(f"Resizing to a smaller disk is not supported: flavor {flavor.flavorid} has a "
                      f"{flavor.root_gb} GB root disk, the server has {instance.root_gb} GB.")
    grow = {"cores": max(0, flavor.vcpus - instance.vcpus), "ram": max(0, flavor.memory_mb - instance.memory_mb)}
    with transaction.atomic():
        if any(grow.values()):
            try:
                quotas.commit(quotas.reserve(instance.project_id, grow, user_id=instance.user_id))
            except quotas.OverQuota as exc:
                raise OverQuota(f"Quota exceeded for the resize: {exc}") from None
        begin(instance, "resize", ctx, task_state=T.RESIZE_PREP)
        if auto_disk_config is not None:
            update_state(instance, auto_disk_config=auto_disk_config)
        record = InstanceResize.objects.create(
            instance=instance, request_id=_request_id(ctx), old_flavor=flavor_fields(instance),
            new_flavor=flavor_fields(flavor), old_vm_state=instance.vm_state, source_host=instance.host,
            source_node=instance.node, quota_cores=grow["cores"], quota_ram=grow["ram"],
        )
        migration = Migration.objects.create(
            instance_uuid=instance.uuid, source_compute=instance.host, source_node=instance.node,
            old_instance_type_id=instance.flavor_id, new_instance_type_id=flavor.pk, status=R.PRE_MIGRATING,
            migration_type="resize", updated_at=timezone.now(),
        )
        record.migration_id = migration.pk
        record.save(update_fields=["migration_id"])
        rpc.prep_resize(str(instance.uuid), _request_id(ctx))
    log.info("resize of instance %s to flavor %s requested", instance.uuid, flavor.flavorid)
    return record


def check_move(ctx, instance: Instance, action: str, host: str | None) -> None:
    """A move of `instance` (migrate, evacuate) to `host` (None: the scheduler's choice): 409
    in a state that does not allow `action` or without a host, 400 for an unknown host or the
    server's own."""
    states.check_allowed(instance, action, is_admin=getattr(ctx, "is_admin", False))
    volume_backed.refuse(instance, action)
    if not instance.host:
        raise Conflict(f"Cannot '{action}' instance {instance.uuid} while it has no host.")
    if host is not None:
        if not ComputeNode.objects.filter(host=host).exists():
            raise Invalid(f"Compute host {host} could not be found.")
        if host == instance.host:
            raise Invalid(f"The target host can't be the same one: instance {instance.uuid} is on {host}.")


def migrate_server(ctx, instance: Instance, host: str | None = None) -> InstanceResize:
    """Cold migration (Nova's `migrate`): the server's flavor on another host, then
    VERIFY_RESIZE, confirm or revert as a resize. 400 for an unknown `host` or the server's
    own, 409 unless ACTIVE or SHUTOFF."""
    check_move(ctx, instance, "migrate", host)
    with transaction.atomic():
        begin(instance, "migrate", ctx, task_state=T.RESIZE_PREP)
        record = InstanceResize.objects.create(
            instance=instance, request_id=_request_id(ctx), kind=R.MIGRATION, requested_host=host,
            old_flavor=flavor_fields(instance), new_flavor=flavor_fields(instance), old_vm_state=instance.vm_state,
            source_host=instance.host, source_node=instance.node,
        )
        migration = Migration.objects.create(
            instance_uuid=instance.uuid, source_compute=instance.host, source_node=instance.node,
            old_instance_type_id=instance.flavor_id, new_instance_type_id=instance.flavor_id,
            status=R.PRE_MIGRATING, migration_type="migration", updated_at=timezone.now(),
        )
        record.migration_id = migration.pk
        record.save(update_fields=["migration_id"])
        rpc.prep_resize(str(instance.uuid), _request_id(ctx))
    log.info("cold migration of instance %s from %s requested (target %s)", instance.uuid, instance.host,
             host or "the scheduler's choice")
    return record


def _verifying(ctx, instance: Instance, action: str) -> InstanceResize:
    states.check_allowed(instance, action, is_admin=getattr(ctx, "is_admin", False))
    record = InstanceResize.objects.filter(instance=instance, status=R.FINISHED).first()
    if record is None:
        raise Conflict(f"Instance {instance.uuid} has no resize to {action.replace('_resize', '')}.")
    return record


def confirm_resize(ctx, instance: Instance, request_id: str | None = None) -> None:
    """VERIFY_RESIZE -> the source host drops the old files and claim -> ACTIVE/SHUTOFF."""
    record = _verifying(ctx, instance, "confirm_resize")
    request_id = request_id or _request_id(ctx)
    with transaction.atomic():
        begin(instance, "confirm_resize", ctx, task_state=T.RESIZE_CONFIRMING)
        _rename_last_action(instance, "confirmResize", request_id)
        _set_status(record, R.CONFIRMING, request_id)
        rpc.resize_step(record.source_host, "confirm_on_source", str(instance.uuid), request_id)


def revert_resize(ctx, instance: Instance) -> None:
    """VERIFY_RESIZE -> REVERT_RESIZE: the destination lets go, the source comes back."""
    record = _verifying(ctx, instance, "revert_resize")
    with transaction.atomic():
        begin(instance, "revert_resize", ctx, task_state=T.RESIZE_REVERTING)
        _rename_last_action(instance, "revertResize", _request_id(ctx))
        _set_status(record, R.REVERTING, _request_id(ctx))
        rpc.resize_step(record.dest_host or record.source_host, "revert_on_dest", str(instance.uuid),
                        _request_id(ctx))


def _rename_last_action(instance: Instance, name: str, request_id: str) -> None:
    """`begin` records the action under the state table's key; the API names it as Nova."""
    row = InstanceAction.objects.filter(instance=instance).order_by("-start_time", "-id").first()
    if row is not None:
        row.action, row.request_id = name, request_id
        row.save(update_fields=["action", "request_id", "updated_at"])


def _set_status(record: InstanceResize, status: str, request_id: str | None = None) -> None:
    record.status = status
    fields = ["status", "updated_at"]
    if request_id:
        record.request_id = request_id
        fields.append("request_id")
    record.save(update_fields=fields)
    _migration(record, "error" if status == R.ROLLING_BACK else status)


def _migration(record: InstanceResize, status: str) -> None:
    """The resize's os-migrations row follows (Nova's statuses; it ends confirmed, reverted
    or error and stays)."""
    if record.migration_id:
        Migration.objects.filter(pk=record.migration_id).update(
            status=status, dest_compute=record.dest_host, dest_node=record.dest_node, updated_at=timezone.now())


# --- scheduler ---------------------------------------------------------------------------------


def _load(instance_uuid) -> tuple[Instance | None, InstanceResize | None]:
    instance = Instance.objects.filter(uuid=instance_uuid).first()
    record = InstanceResize.objects.filter(instance=instance).first() if instance is not None else None
    return instance, record


def new_flavor_spec(instance: Instance, record: InstanceResize) -> RequestSpec:
    spec = RequestSpec.from_instance(instance)
    new = record.new_flavor
    spec.memory_mb, spec.vcpus = new["memory_mb"], new["vcpus"]
    spec.root_gb, spec.ephemeral_gb, spec.swap = new["root_gb"], new["ephemeral_gb"], new["swap"]
    spec.retry = {}  # the hosts the boot tried do not matter for a resize
    return spec


def prep_resize(instance_uuid, request_id: str) -> str | None:
    """Choose and claim the destination; the source host then powers the guest off."""
    with instance_lock(f"resize-{instance_uuid}"):
        instance, record = _load(instance_uuid)
        if instance is None or record is None or instance.task_state != T.RESIZE_PREP or \
                record.status != R.PRE_MIGRATING:
            log.info("prep_resize of %s skipped: not waiting for a destination", instance_uuid)
            return None
        action = get_action(instance, request_id, "migrate" if record.kind == R.MIGRATION else "resize")
        spec = new_flavor_spec(instance, record)
        try:
            with event(action, "compute_prep_resize"):
                record = _claim_destination(record, spec)
                pause_point("prep_resize", instance.uuid)
        except (NoValidHost, ClaimFailed) as exc:
            _undo(instance, record, action, exc, expected=T.RESIZE_PREP)
            return None
        try:
            with transaction.atomic():
                update_state(instance, expected_task_state=T.RESIZE_PREP, task_state=T.RESIZE_MIGRATING)
                _set_status(record, R.MIGRATING)
        except UnexpectedTaskState:  # deleted meanwhile: the delete gives the claim back
            return None
        rpc.resize_step(record.source_host, "resize_instance", str(instance.uuid), request_id)
        log.info("resize of instance %s: %s -> %s", instance.uuid, record.source_host, record.dest_host)
        return record.dest_host


def _claim_destination(record: InstanceResize, spec: RequestSpec) -> InstanceResize:
    hosts = get_scheduler().select_hosts(spec)  # NoValidHost propagates
    if record.kind != R.RESIZE or not settings.ALLOW_RESIZE_TO_SAME_HOST:
        hosts = [state for state in hosts if state.host != record.source_host]
    if record.requested_host:
        hosts = [state for state in hosts if state.host == record.requested_host]
        if not hosts:
            raise NoValidHost(f"No valid host was found. The requested host {record.requested_host} does not "
                              f"pass the scheduler's filters.")
    if not hosts and record.kind != R.RESIZE:
        raise NoValidHost(f"No valid host was found. No host but the source {record.source_host} fits.")
    if not hosts:
        raise NoValidHost(f"No valid host was found. The only host that fits is the source {record.source_host} "
                          f"and ALLOW_RESIZE_TO_SAME_HOST is off.")
    last = None
    for state in hosts:
        try:
            return resize_claims.claim(record, state.host, state.nodename, spec)
        except ClaimFailed as exc:
            last = exc
    raise NoValidHost(f"No valid host was found. {getattr(last, 'message', last)}")


# --- settling ----------------------------------------------------------------------------------


def _commit_quota(project_id, deltas: dict) -> None:
    """Move the project's usage by `deltas` (zeros left out; nothing when all are zero)."""
    deltas = {resource: value for resource, value in deltas.items() if value}
    if deltas:
        quotas.commit(quotas.reserve(project_id, deltas))


def _quota_left(record: InstanceResize, keep: str) -> dict:
    """What to commit so that the project's usage counts the `keep` flavor ("old"/"new")
    only: the resize committed old + growth."""
    old, new = record.old_flavor, record.new_flavor
    if keep == "old":
        return {"cores": -record.quota_cores, "ram": -record.quota_ram}
    return {"cores": new["vcpus"] - old["vcpus"] - record.quota_cores,
            "ram": new["memory_mb"] - old["memory_mb"] - record.quota_ram}


def _settle(instance: Instance, record: InstanceResize, action, exc, expected, power=None,
            vm_state: str | None = None, failed: bool = False) -> None:
    """The resize is over on the old flavor: claim and quota growth given back, the record
    gone, the vm_state as before (or `vm_state`), a fault when `exc` (`failed`: the target
    failed and recorded its fault already; the source only took the guest back)."""
    failed = failed or exc is not None
    resize_claims.release(record)
    fields = {"task_state": None, "vm_state": vm_state or record.old_vm_state}
    if power is not None:
        fields["power_state"] = power
    try:
        with transaction.atomic():
            update_state(instance, expected_task_state=expected, **fields)
            _commit_quota(instance.project_id, _quota_left(record, keep="old"))
            _migration(record, "error" if failed or vm_state == states.ERROR else "reverted")
            record.delete()
            if exc is not None:
                record_fault(instance, exc, host=record.source_host)
            if action is not None:
                finish_action(action, "Error" if failed else None)
    except UnexpectedTaskState:  # deleted meanwhile: the delete settles what is left
        return


def _undo(instance: Instance, record: InstanceResize, action, exc, expected, power=None) -> None:
    """A failure before anything changed on a destination: back to the old state (`power`:
    the guest's power state as its host read it; none before a host was involved)."""
    log.warning("resize of instance %s failed: %s", instance.uuid, getattr(exc, "message", exc))
    _settle(instance, record, action, exc, expected=expected, power=power)


# --- delete during a resize --------------------------------------------------------------------


def on_instance_deleted(instance: Instance) -> None:
    """A server deleted in the middle of a resize: the resize claim and the quota growth
    given back (soft_delete gave back the quota of the flavor it had), the record gone."""
    record = InstanceResize.objects.filter(instance_id=instance.pk).first()
    if record is None:
        return
    resize_claims.release(record)
    left = {"cores": record.old_flavor["vcpus"] + record.quota_cores - instance.vcpus,
            "ram": record.old_flavor["memory_mb"] + record.quota_ram - instance.memory_mb}
    _commit_quota(instance.project_id, {k: -v for k, v in left.items()})
    _migration(record, "error" if record.status != R.FINISHED else "confirmed")
    if record.dest_host and record.dest_host != record.source_host and instance.host != record.source_host:
        # the delete runs on the target: the source's set-aside folder is on another machine
        rpc.resize_step(record.source_host, "clean_source", str(instance.uuid), record.request_id)
    record.delete()


# --- periodic ----------------------------------------------------------------------------------


def confirm_expired(now=None) -> int:
    """Servers in VERIFY_RESIZE for longer than RESIZE_CONFIRM_WINDOW seconds are confirmed
    (Nova's resize_confirm_window); 0 turns it off."""
    window = float(settings.RESIZE_CONFIRM_WINDOW)
    if window <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(seconds=window)
    confirmed = 0
    for record in InstanceResize.objects.filter(status=R.FINISHED, finished_at__lt=cutoff).select_related("instance"):
        instance = record.instance
        if instance.deleted_at is not None or instance.vm_state != states.RESIZED or instance.task_state is not None:
            continue
        request_id = f"req-auto-confirm-{record.pk}-{instance.uuid}"
        try:
            confirm_resize(None, instance, request_id=request_id)
        except (Conflict, UnexpectedTaskState) as exc:
            log.info("automatic confirm of %s skipped: %s", instance.uuid, getattr(exc, "message", exc))
            continue
        confirmed += 1
        log.info("resize of instance %s confirmed automatically after %g s", instance.uuid, window)
    return confirmed
