"""Hypervisor <-> DB reconciliation, run by a host's agent (compute.<host> tasks, sent by the
beat fan-out in periodic_hosts.py).

    sync_power_states(host) -> report      what libvirt says about each instance of the host
    running_deleted(host, action) -> report domains of deleted instances: log/shutdown/reap
    reap_deleted(uuid, host) -> dict       tear down what a deleted instance left on the host

Power-state sync follows Nova's `_sync_power_states`: an instance with a task in progress
is left alone; an ACTIVE (or PAUSED) instance whose guest shut itself off or crashed becomes
SHUTOFF; a STOPPED instance found running is stopped again (the DB is the system of record).
Where Nova only logs a vanished domain of an ACTIVE instance, it becomes SHUTOFF here
(power state NOSTATE): `start` or a hard reboot defines it again from the DB, which is the
operators' remedy for a domain lost with its XML (operations guide, section 9 #9).
Each change is recorded as an instance action `stop` with a message, and logged.
"""
import logging
import uuid as uuid_lib
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from cloudproj.host.locks import instance_lock

from .. import states
from ..models import Instance
from ..virt import power_state as ps
from ..virt.driver import DriverError
from ..virt.spec import INSTANCE_NAME_RE
from . import host_resources as hr
from .actions import event, finish_action, start_action
from .instances import UnexpectedTaskState, update_state

log = logging.getLogger(__name__)

RUNNING_DELETED_ACTIONS = ("noop", "log", "shutdown", "reap")
STOPPED_POWER = (ps.SHUTDOWN, ps.CRASHED)


def _sync_request_id(kind: str) -> str:
    return f"req-{kind}-{uuid_lib.uuid4()}"


def _record(instance: Instance, message: str, host: str) -> None:
    action = start_action(instance, "stop", request_id=_sync_request_id("sync"))
    with event(action, "compute_sync_power_state", host=host):
        pass
    finish_action(action, message)


def decide(vm_state: str, power: int, exists: bool) -> tuple[str | None, str | None]:
    """(new vm_state or None, why) for an instance without a task, from the hypervisor's
    power state; ("stop-guest", why) when a stopped instance's guest must be stopped again."""
    if vm_state == states.ACTIVE:
        if not exists:
            return states.STOPPED, "Instance domain vanished from the hypervisor"
        if power in STOPPED_POWER:
            return states.STOPPED, f"Instance shutdown by itself (power state {ps.STATE_NAMES[power]})"
        if power == ps.SUSPENDED:
            return states.STOPPED, "Instance is suspended unexpectedly"
    elif vm_state == states.PAUSED and exists and power in STOPPED_POWER:
        return states.STOPPED, f"Paused instance shutdown by itself (power state {ps.STATE_NAMES[power]})"
    elif vm_state == states.STOPPED and exists and power in (ps.RUNNING, ps.PAUSED):
        return "stop-guest", f"Instance is not stopped (power state {ps.STATE_NAMES[power]}): stopped again"
    return None, None


def _sync_one(instance_id: int, instance_uuid, host: str) -> str | None:
    """Sync one instance under its lock; returns what changed (None: nothing)."""
    drv = hr.driver()
    with instance_lock(instance_uuid):
        instance = Instance.objects.filter(pk=instance_id).first()
        if instance is None or instance.host != host or instance.task_state is not None:
            return None
        if instance.vm_state == states.BUILDING:
            return None
        uuid = str(instance.uuid)
        power = drv.get_power_state(uuid)
        exists = power != ps.NOSTATE or drv.instance_exists(uuid)
        new_state, why = decide(instance.vm_state, power, exists)
        if new_state == "stop-guest":
            power = drv.power_off(uuid, timeout=0)
            new_state = None
        fields = {}
        if power != instance.power_state:
            fields["power_state"] = power
        if new_state is not None:
            fields["vm_state"] = new_state
        if not fields:
            return None
        try:
            update_state(instance, expected_task_state=None, expected_vm_state=instance.vm_state, **fields)
        except UnexpectedTaskState:
            return None  # an API request started meanwhile: it wins
        if why:
            log.warning("instance %s on %s: %s; vm_state %s, power_state %s", uuid, host, why,
                        instance.vm_state, ps.STATE_NAMES.get(power, power))
            _record(instance, why, host)
            return why
        return f"power_state {ps.STATE_NAMES.get(power, power)}"


def sync_power_states(host: str) -> dict:
    """One pass over the instances the DB places on `host`. A hypervisor that cannot be
    reached stops the pass (nothing is changed on a guess)."""
    report: dict = {"host": host, "checked": 0, "changed": {}}
    rows = list(Instance.objects.filter(host=host, task_state__isnull=True).order_by("id").values_list("id", "uuid"))
    for instance_id, instance_uuid in rows:
        report["checked"] += 1
        try:
            change = _sync_one(instance_id, instance_uuid, host)
        except DriverError as exc:
            log.error("power state sync of %s stopped: %s", host, exc)
            report["error"] = str(exc)
            break
        if change:
            report["changed"][instance_id] = change
    log.info("power state sync of %s: %d checked, %d changed", host, report["checked"], len(report["changed"]))
    return report


# --- running but deleted -----------------------------------------------------------------------


def _deleted_long_enough(instance: Instance, now) -> bool:
    grace = timedelta(seconds=float(settings.RUNNING_DELETED_TIMEOUT))
    return instance.deleted_at is not None and instance.deleted_at <= now - grace


def _candidate(drv, name: str, host: str, now) -> tuple[str, Instance | None] | None:
    """(domain uuid, deleted row or None) when domain `name` is a deleted instance of `host`."""
    if not INSTANCE_NAME_RE.match(name):
        return None  # not our naming: foreign domains are never touched
    info = drv.get_info(name)
    row = Instance.all_objects.filter(uuid=info.uuid).first()
    if row is not None:
        if row.deleted_at is None or row.host != host or not _deleted_long_enough(row, now):
            return None
        return info.uuid, row
    # No row at all (archived, or lost): only a domain this host made is ours to judge.
    if drv.domain_owner(name) != host:
        return None
    return info.uuid, None


def _handle(drv, domain_uuid: str, row: Instance | None, host: str, action: str) -> str:
    with instance_lock(domain_uuid):
        if row is not None:
            row.refresh_from_db()
            if row.deleted_at is None:
                return "skipped: restored"
        elif Instance.all_objects.filter(uuid=domain_uuid).exists():
            return "skipped: a row appeared"
        if action == "log":
            return "logged"
        if action == "shutdown":
            if drv.get_power_state(domain_uuid) in (ps.RUNNING, ps.PAUSED):
                drv.power_off(domain_uuid, timeout=0)
            return "shut down"
        if row is not None:
            hr.cleanup(row, host)
        else:
            drv.destroy(domain_uuid, cleanup_files=True)
        return "reaped"


def running_deleted(host: str, action: str | None = None) -> dict:
    """Find the domains of `host` whose instance is deleted (or has no row but carries this
    host's mark), deleted at least RUNNING_DELETED_TIMEOUT s ago, and apply `action`
    (RUNNING_DELETED_ACTION): log, shutdown (destroy the guest, keep its definition and
    disk), reap (destroy, undefine, remove the instance directory and what it held)."""
    action = action or settings.RUNNING_DELETED_ACTION
    if action not in RUNNING_DELETED_ACTIONS:
        raise ValueError(f"RUNNING_DELETED_ACTION must be one of {', '.join(RUNNING_DELETED_ACTIONS)}, not {action!r}")
    report: dict = {"host": host, "action": action, "domains": {}}
    if action == "noop":
        return report
    drv = hr.driver()
    now = timezone.now()
    for name in drv.list_instances():
        try:
            found = _candidate(drv, name, host, now)
            if found is None:
                continue
            domain_uuid, row = found
            log.warning("domain %s (%s) on %s runs for a deleted instance%s: %s", name, domain_uuid, host,
                        "" if row is not None else " (no row left)", action)
            report["domains"][name] = _handle(drv, domain_uuid, row, host, action)
        except DriverError as exc:  # vanished meanwhile, or the hypervisor went away
            log.warning("running-deleted check of %s on %s: %s", name, host, exc)
            report["domains"][name] = f"error: {exc}"
    log.info("running-deleted pass of %s (%s): %s", host, action, report["domains"])
    return report


def reap_deleted(instance_uuid, host: str) -> dict | None:
    """Tear down what a deleted instance still has on this host (after a force delete)."""
    with instance_lock(instance_uuid):
        row = Instance.all_objects.filter(uuid=instance_uuid).first()
        if row is None or row.deleted_at is None:
            return None
        result = hr.cleanup(row, host)
    log.info("leftovers of deleted instance %s removed on %s: %s", instance_uuid, host, result)
    return result
