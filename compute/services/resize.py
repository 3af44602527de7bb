"""Resize: a server moves to another flavor, scheduled like a boot (Nova's resize, confirm,
revert). The state in flight is an InstanceResize row (compute/resize_models.py).

API side (in the request):
    resize_server(ctx, instance, flavor)    RESIZE (resize_prep); quota for the growth
    confirm_resize(ctx, instance)           VERIFY_RESIZE -> ACTIVE (or SHUTOFF) on the new flavor
    revert_resize(ctx, instance)            VERIFY_RESIZE -> REVERT_RESIZE -> back on the old one
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
    finish_revert(uuid, request_id)         ... and the source starts on the old flavor again
Periodic:
    confirm_expired(now)                    VERIFY_RESIZE older than RESIZE_CONFIRM_WINDOW: confirmed
    recover_host(host)                      agent start: a step that was running when the agent
                                            died is rolled back (the guest back on the source)

Every failure rolls back to the source on the old flavor, running as it was, with a fault:
no claim, file, domain or address of the attempt is left.
"""
import logging
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import Conflict, Invalid, OverQuota
from cloudproj.host.identity import current_host
from cloudproj.host.locks import instance_lock
from identity.services import quotas
from images.drivers import qemu_img

from .. import states
from ..models import Flavor, Instance, InstanceAction, InstanceActionEvent, InstanceResize, Migration
from ..scheduler import NoValidHost, RequestSpec, get_scheduler, resize_claims
from ..scheduler.claims import ClaimFailed
from ..virt import power_state as ps
from ..virt.driver import DriverError
from ..virt.spec import NAME_RE
from . import host_resources as hr
from .actions import event, event_finish, finish_action, get_action, record_fault
from .fault_injection import pause_point
from .instances import UnexpectedTaskState, begin, update_state

log = logging.getLogger(__name__)

T = states.task
R = InstanceResize
RESIZE_SUFFIX = "_resize"
FLAVOR_FIELDS = ("flavorid", "flavor_name", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "swap",
                 "flavor_extra_specs")
GiB = 1024**3


class ResizeInterrupted(Exception):
    """The agent stopped in the middle of a resize step."""


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


def resize_dir(instance: Instance) -> Path:
    """INSTANCES_PATH/<name>_resize: the source's files while a resize is in flight."""
    return hr.instance_dir(instance).with_name(instance.name + RESIZE_SUFFIX)


# --- API side ----------------------------------------------------------------------------------


def resize_server(ctx, instance: Instance, flavor: Flavor) -> InstanceResize:
    """Ask for `flavor`: 400 for the same flavor, a disabled one or a smaller disk (a qcow2
    disk is never shrunk), 403 over quota for the growth, 409 unless ACTIVE or SHUTOFF."""
    states.check_allowed(instance, "resize", is_admin=getattr(ctx, "is_admin", False))
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
                quotas.commit(quotas.reserve(instance.project_id, grow))
            except quotas.OverQuota as exc:
                raise OverQuota(f"Quota exceeded for the resize: {exc}") from None
        begin(instance, "resize", ctx, task_state=T.RESIZE_PREP)
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
    _migration(record, status)


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
        action = get_action(instance, request_id, "resize")
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
    if not settings.ALLOW_RESIZE_TO_SAME_HOST:
        hosts = [state for state in hosts if state.host != record.source_host]
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


# --- source host -------------------------------------------------------------------------------


def _step(instance_uuid, request_id: str, name: str, task_state: str, status: str, host_of):
    """(instance, record, action) when `name` may run here now, else None."""
    instance, record = _load(instance_uuid)
    if instance is None or record is None or instance.task_state != task_state or record.status != status:
        log.info("%s of %s skipped: task_state or resize status moved on", name, instance_uuid)
        return None
    if host_of(record) != current_host():
        log.warning("%s of %s reached %s, not %s: ignored", name, instance_uuid, current_host(), host_of(record))
        return None
    return instance, record, get_action(instance, request_id)


def resize_instance(instance_uuid, request_id: str) -> bool:
    """On the source: the guest powered off and undefined, its directory set aside."""
    with instance_lock(instance_uuid):
        found = _step(instance_uuid, request_id, "resize_instance", T.RESIZE_MIGRATING, R.MIGRATING,
                      lambda r: r.source_host)
        if found is None:
            return False
        instance, record, action = found
        try:
            with event(action, "compute_resize_instance", host=record.source_host):
                _power_off_and_set_aside(instance)
                pause_point("resize_instance", instance.uuid)
        except Exception as exc:  # noqa: BLE001 - rolled back to the source, with a fault
            log.warning("resize_instance of %s failed: %s", instance.uuid, exc)
            _restore_source(instance, record)
            _undo(instance, record, action, exc, expected=T.RESIZE_MIGRATING)
            return False
        with transaction.atomic():
            update_state(instance, expected_task_state=T.RESIZE_MIGRATING, task_state=T.RESIZE_MIGRATED,
                         power_state=ps.SHUTDOWN)
            _set_status(record, R.POST_MIGRATING)
        _send(record.dest_host, "finish_resize", instance, request_id)
        return True


def _power_off_and_set_aside(instance: Instance) -> None:
    drv = hr.driver()
    uuid = str(instance.uuid)
    if drv.get_power_state(uuid) not in (ps.SHUTDOWN, ps.NOSTATE):
        drv.power_off(uuid, timeout=settings.SHUTDOWN_TIMEOUT)
    drv.destroy(uuid)
    current, aside = hr.instance_dir(instance), resize_dir(instance)
    if current.is_dir():
        if aside.exists():  # a re-run after a crash that had moved it already
            shutil.rmtree(current)
        else:
            current.rename(aside)


def _send(host: str, step: str, instance: Instance, request_id: str) -> None:
    """The next step, a message to compute.<host> (this host's own queue too: the message
    is acknowledged only once that step ran, so a crash between the two loses nothing)."""
    rpc.resize_step(host, step, str(instance.uuid), request_id)


# --- destination host --------------------------------------------------------------------------


def finish_resize(instance_uuid, request_id: str) -> bool:
    """On the destination: the disk copied (and grown) from the source's set-aside directory,
    the new flavor applied, the domain started -> VERIFY_RESIZE."""
    with instance_lock(instance_uuid):
        found = _step(instance_uuid, request_id, "finish_resize", T.RESIZE_MIGRATED, R.POST_MIGRATING,
                      lambda r: r.dest_host)
        if found is None:
            return False
        instance, record, action = found
        try:
            update_state(instance, expected_task_state=T.RESIZE_MIGRATED, task_state=T.RESIZE_FINISH)
            with event(action, "compute_finish_resize", host=record.dest_host):
                power = _finish_on_dest(instance, record)
                pause_point("finish_resize", instance.uuid)
        except Exception as exc:  # noqa: BLE001 - rolled back to the source, with a fault
            log.warning("finish_resize of %s failed: %s", instance.uuid, exc)
            _rollback_from_dest(instance, record, action, exc, expected=[T.RESIZE_MIGRATED, T.RESIZE_FINISH])
            return False
        with transaction.atomic():
            update_state(instance, expected_task_state=T.RESIZE_FINISH, vm_state=states.RESIZED, task_state=None,
                         power_state=power)
            record.finished_at = timezone.now()
            record.save(update_fields=["finished_at"])
            _set_status(record, R.FINISHED)
            if action is not None:
                finish_action(action)
        log.info("instance %s resized on %s: VERIFY_RESIZE", instance.uuid, record.dest_host)
        return True


def _finish_on_dest(instance: Instance, record: InstanceResize) -> int:
    aside = resize_dir(instance)
    source_disk = aside / hr.DISK_NAME
    if not source_disk.is_file():
        raise DriverError(f"the disk of instance {instance.uuid} is not in {aside} on this host (a resize to "
                          f"another host needs the source's INSTANCES_PATH here)")
    _apply_flavor(instance, record.new_flavor, host=record.dest_host, node=record.dest_node)
    hr.prepare_disk(instance, replace=True)  # the image cached here; the overlay replaced just below
    disk = hr.disk_path(instance)
    tmp = disk.with_name(disk.name + ".part")
    shutil.copyfile(source_disk, tmp)
    virtual = int(qemu_img.info(tmp, fmt="qcow2").get("virtual-size") or 0)
    if instance.root_gb and instance.root_gb * GiB > virtual:
        qemu_img.grow(tmp, instance.root_gb * GiB)
    tmp.replace(disk)
    if record.dest_host != record.source_host:
        hr.allocate_network(instance, record.dest_host)
    if record.old_vm_state != states.ACTIVE:
        return ps.SHUTDOWN  # a stopped server stays stopped; `start` defines its domain
    return hr.driver().spawn(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)


def _apply_flavor(instance: Instance, flavor: dict, host: str | None, node: str | None) -> None:
    fields = {name: flavor[name] for name in FLAVOR_FIELDS}
    fields["flavor_id"] = flavor.get("flavor_id") if Flavor.all_objects.filter(pk=flavor.get("flavor_id")).exists() \
        else None
    update_state(instance, host=host, node=node, **fields)


def revert_on_dest(instance_uuid, request_id: str) -> bool:
    """revertResize on the destination: the new domain, files and claim go; then the source."""
    with instance_lock(instance_uuid):
        found = _step(instance_uuid, request_id, "revert_on_dest", T.RESIZE_REVERTING, R.REVERTING,
                      lambda r: r.dest_host or r.source_host)
        if found is None:
            return False
        instance, record, action = found
        with event(action, "compute_revert_resize", host=record.dest_host):
            _clean_dest(instance, record)
        _send(record.source_host, "finish_revert", instance, request_id)
        return True


def _clean_dest(instance: Instance, record: InstanceResize) -> None:
    """What the destination holds for the resize: its domain and (new) directory, its
    claim. The source's set-aside directory is never touched here."""
    hr.driver().destroy(str(instance.uuid))
    # on the source host itself <name> is the destination's only while the source's files
    # wait aside (else it is the source's own, restored already)
    if record.dest_host != record.source_host or resize_dir(instance).is_dir():
        hr.remove_files(instance)
    if record.dest_host and record.dest_host != record.source_host:
        hr.release_network(instance, record.dest_host)  # the source's DHCP entry comes back below
    resize_claims.release(record)


def finish_revert(instance_uuid, request_id: str) -> bool:
    """On the source: the old flavor back, the set-aside directory back, the guest as it was."""
    with instance_lock(instance_uuid):
        found = _step(instance_uuid, request_id, "finish_revert", T.RESIZE_REVERTING, R.REVERTING,
                      lambda r: r.source_host)
        if found is None:
            return False
        instance, record, action = found
        try:
            with event(action, "compute_finish_revert_resize", host=record.source_host):
                power = _restore_source(instance, record)
        except Exception as exc:  # the old disk is kept; an operator hard-reboots
            log.exception("finish_revert of %s failed", instance.uuid)
            _settle(instance, record, action, exc, expected=T.RESIZE_REVERTING, vm_state=states.ERROR)
            return False
        _settle(instance, record, action, None, expected=T.RESIZE_REVERTING, power=power)
        return True


def _restore_source(instance: Instance, record: InstanceResize) -> int:
    """The source as before the resize: the old flavor, its directory back, its domain
    started when it ran. Idempotent."""
    _apply_flavor(instance, record.old_flavor, host=record.source_host, node=record.source_node)
    current, aside = hr.instance_dir(instance), resize_dir(instance)
    if aside.is_dir():
        if current.exists():
            shutil.rmtree(current)
        aside.rename(current)
    if record.source_host != (record.dest_host or record.source_host):
        hr.allocate_network(instance, record.source_host)
    if record.old_vm_state != states.ACTIVE:
        return hr.driver().get_power_state(str(instance.uuid))
    return hr.driver().power_on(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)


def confirm_on_source(instance_uuid, request_id: str) -> bool:
    """confirmResize on the source: the set-aside directory and the old claim go."""
    with instance_lock(instance_uuid):
        found = _step(instance_uuid, request_id, "confirm_on_source", T.RESIZE_CONFIRMING, R.CONFIRMING,
                      lambda r: r.source_host)
        if found is None:
            return False
        instance, record, action = found
        with event(action, "compute_confirm_resize", host=record.source_host):
            _remove_resize_dir(instance)
            resize_claims.confirm(record)
            pause_point("confirm_resize", instance.uuid)
        vm_state = states.ACTIVE if record.old_vm_state == states.ACTIVE else states.STOPPED
        with transaction.atomic():
            _commit_quota(instance.project_id, _quota_left(record, keep="new"))
            update_state(instance, expected_task_state=T.RESIZE_CONFIRMING, vm_state=vm_state, task_state=None)
            _migration(record, "confirmed")
            record.delete()
            if action is not None:
                finish_action(action)
        log.info("resize of instance %s confirmed", instance.uuid)
        return True


def _remove_resize_dir(instance: Instance) -> bool:
    aside = resize_dir(instance)
    if aside.name != instance.name + RESIZE_SUFFIX or not NAME_RE.match(instance.name) or not aside.is_dir():
        return False
    shutil.rmtree(aside, ignore_errors=True)
    return True


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
            vm_state: str | None = None) -> None:
    """The resize is over on the old flavor: claim and quota growth given back, the record
    gone, the vm_state as before (or `vm_state`), a fault when `exc`."""
    resize_claims.release(record)
    fields = {"task_state": None, "vm_state": vm_state or record.old_vm_state}
    if power is not None:
        fields["power_state"] = power
    try:
        with transaction.atomic():
            update_state(instance, expected_task_state=expected, **fields)
            _commit_quota(instance.project_id, _quota_left(record, keep="old"))
            _migration(record, "error" if exc is not None or vm_state == states.ERROR else "reverted")
            record.delete()
            if exc is not None:
                record_fault(instance, exc, host=record.source_host)
            if action is not None:
                finish_action(action, "Error" if exc is not None else None)
    except UnexpectedTaskState:  # deleted meanwhile: the delete settles what is left
        return


def _undo(instance: Instance, record: InstanceResize, action, exc, expected) -> None:
    """A failure before anything changed on a destination: back to the old state."""
    log.warning("resize of instance %s failed: %s", instance.uuid, getattr(exc, "message", exc))
    power = None
    try:
        power = hr.driver().get_power_state(str(instance.uuid)) if expected != T.RESIZE_PREP else None
    except DriverError:
        pass
    _settle(instance, record, action, exc, expected=expected, power=power)


def _rollback_from_dest(instance: Instance, record: InstanceResize, action, exc, expected) -> None:
    """finish_resize failed: the destination lets go, the source comes back as it was."""
    try:
        _clean_dest(instance, record)
        power = _restore_source(instance, record) if record.source_host == current_host() else None
    except Exception as cleanup_exc:  # reported; the server goes to ERROR
        log.exception("rollback of the resize of %s incomplete", instance.uuid)
        _settle(instance, record, action, cleanup_exc, expected=expected, vm_state=states.ERROR)
        return
    if power is None:  # the source is another host: it restores itself
        with transaction.atomic():
            update_state(instance, expected_task_state=expected, task_state=T.RESIZE_REVERTING)
            record_fault(instance, exc, host=record.dest_host)
            _set_status(record, R.REVERTING)
        rpc.resize_step(record.source_host, "finish_revert", str(instance.uuid), record.request_id)
        return
    _settle(instance, record, action, exc, expected=expected, power=power)


STEPS = {
    "resize_instance": resize_instance, "finish_resize": finish_resize, "confirm_on_source": confirm_on_source,
    "revert_on_dest": revert_on_dest, "finish_revert": finish_revert,
}


def run_step(step: str, instance_uuid, request_id: str) -> bool:
    if step not in STEPS:
        raise ValueError(f"unknown resize step {step!r}")
    return STEPS[step](instance_uuid, request_id)


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
    record.delete()


def cleanup_files(instance: Instance, host: str) -> None:
    """Host hook before_cleanup: a deleted server's set-aside resize directory goes too."""
    _remove_resize_dir(instance)


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


# --- agent start -------------------------------------------------------------------------------

# a step whose worker died: the event name it left open, the task_state it ran in
INTERRUPTIBLE = {
    "compute_resize_instance": (T.RESIZE_MIGRATING, R.MIGRATING),
    "compute_finish_resize": (T.RESIZE_FINISH, R.POST_MIGRATING),
}


def recover_host(host: str) -> dict:
    """Host hook agent_start: resizes this agent was in the middle of when it died. A step
    that was running is rolled back (the guest back on the source, old flavor, a fault); a
    confirm or revert that was running is finished. A step not started yet is left to its
    message, which comes back (late ack)."""
    counts = {"rolled_back": 0, "finished": 0}
    records = (InstanceResize.objects.filter(instance__deleted_at__isnull=True)
               .filter(Q(source_host=host) | Q(dest_host=host)).select_related("instance"))
    for record in records:
        instance = record.instance
        running = list(InstanceActionEvent.objects.filter(
            action__instance=instance, host=host, finish_time__isnull=True,
            event__in=[*INTERRUPTIBLE, "compute_confirm_resize", "compute_revert_resize",
                       "compute_finish_revert_resize"]))
        if not running:
            continue
        exc = ResizeInterrupted(f"The agent of {host} stopped during {running[0].event} of instance {instance.uuid}.")
        for evt in running:
            event_finish(evt, exc)
        if _recover_one(instance, record, running[0], exc, host):
            counts["rolled_back" if running[0].event in INTERRUPTIBLE else "finished"] += 1
    if any(counts.values()):
        log.warning("agent %s recovered its resizes in flight: %s", host, counts)
    return counts


def _recover_one(instance: Instance, record: InstanceResize, evt, exc, host: str) -> bool:
    request_id = record.request_id
    action = evt.action
    if evt.event == "compute_confirm_resize":
        return confirm_on_source(instance.uuid, request_id)
    if evt.event == "compute_revert_resize":
        return revert_on_dest(instance.uuid, request_id)
    if evt.event == "compute_finish_revert_resize":
        return finish_revert(instance.uuid, request_id)
    with instance_lock(instance.uuid):
        instance.refresh_from_db()
        if evt.event == "compute_resize_instance":
            if instance.task_state != T.RESIZE_MIGRATING:
                return False
            try:
                power = _restore_source(instance, record)
            except Exception as restore_exc:  # noqa: BLE001 - reported, ERROR
                _settle(instance, record, action, restore_exc, expected=T.RESIZE_MIGRATING, vm_state=states.ERROR)
                return True
            _settle(instance, record, action, exc, expected=T.RESIZE_MIGRATING, power=power)
            return True
        if instance.task_state != T.RESIZE_FINISH:
            return False
        _rollback_from_dest(instance, record, action, exc, expected=T.RESIZE_FINISH)
        return True
