"""What the hosts do for a resize (compute.<host> `resize_step` messages; see resize.py for
the whole flow): the source sets the guest aside, the destination grows the disk and starts the
new flavor, confirm and revert clean up; on agent start, a step a dead agent left is rolled back
or finished. Every failure rolls back to the source on the old flavor with a fault.
"""
import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cloudproj import rpc
from cloudproj.host.identity import current_host
from cloudproj.host.locks import instance_lock
from images.drivers import qemu_img

from .. import states
from ..models import Flavor, Instance, InstanceActionEvent, InstanceResize
from ..scheduler import resize_claims
from ..virt import power_state as ps
from ..virt.driver import DriverError
from ..virt.spec import NAME_RE
from . import disk_transfer
from . import host_resources as hr
from . import resize
from .actions import event, event_finish, finish_action, get_action, record_fault
from .fault_injection import pause_point
from .instances import update_state
from .resize import (FLAVOR_FIELDS, R, RESIZE_SUFFIX, T, _commit_quota, _load, _migration, _quota_left, _set_status,
                     _settle)

log = logging.getLogger(__name__)

GiB = 1024**3


def _undo(instance: Instance, record: InstanceResize, action, exc, expected) -> None:
    """resize._undo with the guest's power state as this host's driver reads it."""
    power = None
    try:
        power = hr.driver().get_power_state(str(instance.uuid))
    except DriverError:
        pass
    resize._undo(instance, record, action, exc, expected, power=power)


class ResizeInterrupted(Exception):
    """The agent stopped in the middle of a resize step."""


def resize_dir(instance: Instance) -> Path:
    """INSTANCES_PATH/<name>_resize: the source's files while a resize is in flight."""
    return hr.instance_dir(instance).with_name(instance.name + RESIZE_SUFFIX)


# --- source host -------------------------------------------------------------------------------


def _step(instance_uuid, request_id: str, name: str, task_state: str, status: str | tuple, host_of):
    """(instance, record, action) when `name` may run here now, else None."""
    instance, record = _load(instance_uuid)
    statuses = status if isinstance(status, tuple) else (status,)
    if instance is None or record is None or instance.task_state != task_state or record.status not in statuses:
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
                if record.dest_host != record.source_host:
                    disk_transfer.stage(instance, resize_dir(instance))
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
    moving = record.dest_host != record.source_host
    if moving:  # staged by the source in the shared image store
        source_disk = disk_transfer.staged_disk(instance)
    else:
        source_disk = resize_dir(instance) / hr.DISK_NAME
        if not source_disk.is_file():
            raise DriverError(f"the disk of instance {instance.uuid} is not in {source_disk.parent} on this host")
    _apply_flavor(instance, record.new_flavor, host=record.dest_host, node=record.dest_node)
    paths = hr.prepare_disk(instance, replace=True)  # the image cached here; the overlay replaced just below
    disk = hr.disk_path(instance)
    tmp = disk.with_name(disk.name + ".part")
    if moving:
        disk_transfer.receive(instance, tmp, paths["base"])
    else:
        shutil.copyfile(source_disk, tmp)
    virtual = int(qemu_img.info(tmp, fmt="qcow2").get("virtual-size") or 0)
    if instance.root_gb and instance.root_gb * GiB > virtual:
        qemu_img.grow(tmp, instance.root_gb * GiB)
    tmp.replace(disk)
    if moving:
        disk_transfer.discard(instance)
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
    disk_transfer.discard(instance)
    # on the source host itself <name> is the destination's only while the source's files
    # wait aside (else it is the source's own, restored already)
    if record.dest_host != record.source_host or resize_dir(instance).is_dir():
        hr.remove_files(instance)
    if record.dest_host and record.dest_host != record.source_host:
        # the addresses stay the server's: they point at the source again, the target's DHCP
        # entry and chains go; the source's come back when it restores the guest
        hr.move_addresses(instance, record.source_host)
        hr.left_host(instance, record.dest_host)
    resize_claims.release(record)


def finish_revert(instance_uuid, request_id: str) -> bool:
    """On the source: the old flavor back, the set-aside directory back, the guest as it was."""
    with instance_lock(instance_uuid):
        found = _step(instance_uuid, request_id, "finish_revert", T.RESIZE_REVERTING, (R.REVERTING, R.ROLLING_BACK),
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
        _settle(instance, record, action, None, expected=T.RESIZE_REVERTING, power=power,
                failed=record.status == R.ROLLING_BACK)
        return True


def _restore_source(instance: Instance, record: InstanceResize) -> int:
    """The source as before the resize: the old flavor, its directory back, its domain
    started when it ran. Idempotent."""
    _apply_flavor(instance, record.old_flavor, host=record.source_host, node=record.source_node)
    disk_transfer.discard(instance)
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
            disk_transfer.discard(instance)
            if record.dest_host and record.dest_host != record.source_host:
                hr.left_host(instance, record.source_host)
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
            _set_status(record, R.ROLLING_BACK)
        rpc.resize_step(record.source_host, "finish_revert", str(instance.uuid), record.request_id)
        return
    _settle(instance, record, action, exc, expected=expected, power=power)


def clean_source(instance_uuid, request_id: str) -> bool:
    """A server deleted on its target while the source still kept its set-aside folder: the
    source (this host) removes it, any staged copy and its host state of the server."""
    with instance_lock(instance_uuid):
        instance = Instance.all_objects.filter(uuid=instance_uuid).first()
        if instance is None or instance.deleted_at is None:
            return False
        if hr.driver().domain_owner(str(instance.uuid)) == current_host():  # never the target's domain
            hr.driver().destroy(str(instance.uuid))
        removed = _remove_resize_dir(instance)
        disk_transfer.discard(instance)
        hr.left_host(instance, current_host())
        log.info("deleted instance %s: its set-aside resize folder on %s removed (%s)", instance.uuid,
                 current_host(), removed)
        return True


STEPS = {
    "resize_instance": resize_instance, "finish_resize": finish_resize, "confirm_on_source": confirm_on_source,
    "revert_on_dest": revert_on_dest, "finish_revert": finish_revert, "clean_source": clean_source,
}


def run_step(step: str, instance_uuid, request_id: str) -> bool:
    if step not in STEPS:
        raise ValueError(f"unknown resize step {step!r}")
    return STEPS[step](instance_uuid, request_id)


def cleanup_files(instance: Instance, host: str) -> None:
    """Host hook before_cleanup: a deleted server's set-aside resize directory goes too."""
    _remove_resize_dir(instance)


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
