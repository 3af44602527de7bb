"""What a compute host does for the API's actions on its instances (compute.<host> tasks).

    run_action(uuid, request_id, action, params)   reboot/stop/start/pause/unpause/suspend/
                                                    resume/rebuild/soft_delete/restore, then
                                                    the final states
    terminate(uuid, request_id, host)              domain, disk, address, claim, quota: gone once

Each runs under the instance's lock in this agent and only if the instance still has the
task_state the API set (a re-delivered or superseded message does nothing).
"""
import logging

from django.conf import settings
from django.utils import timezone

from cloudproj.host.locks import instance_lock

from .. import states
from ..models import Instance
from ..virt import power_state as ps
from ..virt.console import read_tail, tail_lines
from ..virt.driver import InstanceNotFound
from . import host_resources as hr
from . import crash_dump_host, rescue_host, shelve_host
from .actions import event, finish_action, get_action, record_fault
from .fault_injection import pause_point
from .instances import UnexpectedTaskState, soft_delete, update_state
from .operations import ACTION_TASK_STATES

log = logging.getLogger(__name__)

T = states.task


def _reboot(instance: Instance, params: dict) -> dict:
    hard = (params.get("reboot_type") or "SOFT").upper() == "HARD"
    power = hr.driver().reboot(hr.build_spec(instance), hard=hard, timeout=settings.REBOOT_TIMEOUT)
    return {"vm_state": states.ACTIVE, "power_state": power}


def _stop(instance: Instance, params: dict) -> dict:
    power = hr.driver().power_off(str(instance.uuid), timeout=settings.SHUTDOWN_TIMEOUT)
    return {"vm_state": states.STOPPED, "power_state": power}


def _start(instance: Instance, params: dict) -> dict:
    power = hr.driver().power_on(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)
    return {"vm_state": states.ACTIVE, "power_state": power}


def _soft_delete(instance: Instance, params: dict) -> dict:
    """Powered off and kept (disk, addresses, claim, quota) until restore or the reclaim."""
    power = hr.driver().power_off(str(instance.uuid), timeout=settings.SHUTDOWN_TIMEOUT)
    return {"vm_state": states.SOFT_DELETED, "power_state": power}


def _restore(instance: Instance, params: dict) -> dict:
    power = hr.driver().power_on(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)
    return {"vm_state": states.ACTIVE, "power_state": power}


def _pause(instance: Instance, params: dict) -> dict:
    return {"vm_state": states.PAUSED, "power_state": hr.driver().pause(str(instance.uuid))}


def _unpause(instance: Instance, params: dict) -> dict:
    return {"vm_state": states.ACTIVE, "power_state": hr.driver().unpause(str(instance.uuid))}


def _suspend(instance: Instance, params: dict) -> dict:
    return {"vm_state": states.SUSPENDED, "power_state": hr.driver().suspend(str(instance.uuid))}


def _resume(instance: Instance, params: dict) -> dict:
    power = hr.driver().resume(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)
    return {"vm_state": states.ACTIVE, "power_state": power}


def _rebuild(instance: Instance, params: dict) -> dict:
    """A fresh overlay on the (new) image; same domain uuid, MAC and address. A stopped
    server stays stopped (as in Nova): its domain is defined again, not started."""
    stopped = instance.vm_state == states.STOPPED
    hr.driver().destroy(str(instance.uuid))
    hr.prepare_disk(instance, replace=True)
    update_state(instance, expected_task_state=T.REBUILDING, task_state=T.REBUILD_SPAWNING)
    if stopped:
        power = hr.driver().define(hr.build_spec(instance))
    else:
        power = hr.driver().spawn(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)
    return {"vm_state": states.STOPPED if stopped else states.ACTIVE, "power_state": power,
            "launched_at": timezone.now(), "_expected": T.REBUILD_SPAWNING}


ACTIONS = {
    "reboot": _reboot, "stop": _stop, "start": _start, "pause": _pause, "unpause": _unpause,
    "suspend": _suspend, "resume": _resume, "rebuild": _rebuild,
    "rescue": rescue_host.rescue_on_host, "unrescue": rescue_host.unrescue_on_host,
    "shelve": shelve_host.shelve_on_host, "shelveOffload": shelve_host.offload_on_host, "unshelve": shelve_host.unshelve_on_host,
    "soft_delete": _soft_delete, "restore": _restore,
}
# a failure of these leaves the guest in an unknown state: ERROR (as Nova)
ERROR_ON_FAILURE = {"reboot", "rebuild"}


def _expected_task_state(action: str, params: dict) -> str:
    reboot_type = (params.get("reboot_type") or "SOFT").upper() if action == "reboot" else None
    return ACTION_TASK_STATES[(action, reboot_type)]


def run_action(instance_uuid, request_id: str, action: str, params: dict | None = None) -> bool:
    params = dict(params or {})
    if action == "trigger_crash_dump":  # no task_state: the states stay as they are
        return crash_dump_host.run(instance_uuid, request_id)
    if action not in ACTIONS:
        raise ValueError(f"unknown instance action {action!r}")
    expected = _expected_task_state(action, params)
    with instance_lock(instance_uuid):
        instance = Instance.objects.filter(uuid=instance_uuid).first()
        if instance is None or instance.task_state != expected:
            log.info("%s of %s skipped: task_state is no longer %s", action, instance_uuid, expected)
            return False
        record = get_action(instance, request_id, action)
        try:
            with event(record, f"compute_{action}", host=instance.host):
                result = ACTIONS[action](instance, params)
                pause_point(action, instance.uuid)
        except Exception as exc:  # noqa: BLE001 - reported as a fault, the state is settled below
            _failed(instance, record, action, expected, exc)
            return False
        expected = result.pop("_expected", expected)
        try:
            update_state(instance, expected_task_state=expected, task_state=None, **result)
        except UnexpectedTaskState:
            return False
        if record is not None:
            finish_action(record)
        return True


def _failed(instance: Instance, record, action: str, expected: str, exc: Exception) -> None:
    log.warning("%s of instance %s failed: %s", action, instance.uuid, exc)
    record_fault(instance, exc, host=instance.host)
    fields = {"task_state": None, "power_state": hr.driver().get_power_state(str(instance.uuid))}
    if action in ERROR_ON_FAILURE:
        fields["vm_state"] = states.ERROR
    try:
        update_state(instance, expected_task_state=[expected, T.REBUILD_SPAWNING], **fields)
    except UnexpectedTaskState:
        pass
    if record is not None:
        finish_action(record, "Error")


def terminate(instance_uuid, request_id: str, host: str) -> bool:
    """Tear down everything the instance holds; exactly once (a second call finds it deleted)."""
    with instance_lock(instance_uuid):
        instance = Instance.all_objects.filter(uuid=instance_uuid).first()
        if instance is None or instance.deleted_at is not None:
            return False
        record = get_action(instance, request_id, "delete")
        try:
            with event(record, "compute_terminate_instance", host=host):
                pause_point("terminate", instance.uuid)
                hr.cleanup(instance, host)
        except Exception as exc:  # noqa: BLE001 - the user can delete again
            record_fault(instance, exc, host=host)
            update_state(instance, vm_state=states.ERROR, task_state=None)
            if record is not None:
                finish_action(record, "Error")
            return False
        soft_delete(instance)
        if record is not None:
            finish_action(record)
        log.info("instance %s deleted on %s", instance.uuid, host)
        return True


def sync_power_state(instance: Instance) -> int:
    """The driver's power state of the instance, saved when it changed."""
    power = hr.driver().get_power_state(str(instance.uuid))
    if power != instance.power_state and power in ps.STATE_NAMES:
        update_state(instance, power_state=power)
    return power


def list_domains() -> list[dict]:
    drv = hr.driver()
    domains = []
    for name in drv.list_instances():
        info = drv.get_info(name)
        domains.append({"name": info.name, "uuid": info.uuid, "power_state": info.state_name})
    return domains


def console_tail(instance_uuid, length: int | None = None) -> str:
    """At most `length` last lines of the console log, never more than CONSOLE_OUTPUT_MAX_BYTES."""
    instance = Instance.all_objects.filter(uuid=instance_uuid).first()
    if instance is None:
        return ""
    return tail_lines(read_tail(hr.console_path(instance), settings.CONSOLE_OUTPUT_MAX_BYTES), length)


WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")


def vnc_console(instance_uuid) -> dict:
    """Where a console proxy reaches the instance's VNC server on this host: {"host", "port"},
    or {"error": reason} when the domain has none (not running, no VNC). A server listening on
    every address is reached at VNC_PROXYCLIENT_ADDRESS."""
    instance = Instance.objects.filter(uuid=instance_uuid).first()
    if instance is None:
        return {"error": f"Instance {instance_uuid} could not be found."}
    try:
        address = hr.driver().get_vnc_address(str(instance.uuid))
    except InstanceNotFound:
        address = None
    if address is None:
        return {"error": f"Instance {instance_uuid} has no running VNC server on this host."}
    listen, port = address
    host = settings.VNC_PROXYCLIENT_ADDRESS if listen in WILDCARD_ADDRESSES else listen
    return {"host": host, "port": port}
