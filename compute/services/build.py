"""The boot pipeline, step by step (the Celery tasks in compute/tasks.py only call these).

    schedule(uuid, request_id)                  queue `scheduler`: filters + weighers, claim,
                                                then the host steps go to compute.<host>
    allocate_ip / fetch_image / spawn(uuid, request_id, host, attempt)
                                                queue compute.<host>, one step each

Each step runs only if the instance is still building on this host in this attempt, and
moves task_state on with a compare-and-swap (scheduling → networking →
block_device_mapping → spawning → None). A re-delivered step whose work is already done
passes the chain on; a step whose instance went away (deleted) or moved on does nothing.

A failing step rolls back everything the attempt holds on the host (domain, overlay,
fixed IP and its DHCP entry, capacity claim) and reschedules to another host, until
SCHEDULER_MAX_ATTEMPTS attempts were made; then ERROR with a fault.
"""
import logging
from contextlib import contextmanager
from typing import TypeGuard

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.host.locks import instance_lock

from .. import states
from ..models import Instance, InstanceAction
from ..scheduler import NoValidHost, claims
from ..virt.driver import DriverError
from . import host_resources as hr
from . import server_groups
from .actions import action_handle, event, finish_action, latest_action_id, record_fault
from cloudproj.exceptions import Invalid
from .fault_injection import pause_point
from .instances import UnexpectedTaskState, max_attempts_reached, next_retry, update_state

log = logging.getLogger(__name__)

T = states.task
# (step, the task_state it runs in, the task_state it leaves behind)
STEPS = (
    ("allocate_ip", T.NETWORKING, T.BLOCK_DEVICE_MAPPING),
    ("fetch_image", T.BLOCK_DEVICE_MAPPING, T.SPAWNING),
    ("spawn", T.SPAWNING, None),
)
STEP_STATES = tuple(entry[1] for entry in STEPS)
# failures that another host would not fix: straight to ERROR
NOT_RESCHEDULED = (Invalid, hr.ImageUnavailable)


def _load(instance_uuid, request_id: str) -> tuple[Instance | None, InstanceAction | None]:
    """The instance and (a handle on) its action of `request_id`, in one query."""
    instance = (Instance.all_objects.filter(uuid=instance_uuid)
                .annotate(_action_id=latest_action_id(request_id)).first())
    if instance is None:
        return None, None
    return instance, action_handle(instance._action_id, instance, request_id)


def _building(instance: Instance | None) -> TypeGuard[Instance]:
    return (
        instance is not None and instance.deleted_at is None and instance.vm_state == states.BUILDING
        and instance.task_state != T.DELETING
    )


def _attempt(instance: Instance) -> int:
    return int((instance.retry or {}).get("num_attempts", 0))


# --- schedule ----------------------------------------------------------------------------------


@contextmanager
def _scheduling(instance_uuid):
    """One delivery of an instance's schedule at a time: across scheduler processes with
    PostgreSQL (a session advisory lock; it goes away with the connection of a killed
    worker), within the one scheduler process of the embedded SQLite cloud otherwise.

    A schedule message can arrive twice (broker redelivery, a re-send of a stalled build).
    Unserialised, the second copy could read the instance while the first had claimed but not
    yet moved it on, find every host full (counting its own claim), and put the instance in
    ERROR while the first copy's claim stayed: one host slot held by an ERROR server."""
    if connection.vendor != "postgresql":
        with instance_lock(f"schedule-{instance_uuid}"):
            yield
        return
    key = f"cloudproj.schedule.{instance_uuid}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [key])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
        except DatabaseError:  # the connection broke: the lock went with it
            log.warning("schedule lock of %s: connection lost before unlocking", instance_uuid)


def schedule(instance_uuid, request_id: str) -> str | None:
    """Pick a host and claim capacity there; send the host steps. Returns the host (None
    when the instance is gone, or when nothing fits: then it is in ERROR with a fault)."""
    with _scheduling(instance_uuid):
        return _schedule(instance_uuid, request_id)


def _schedule(instance_uuid, request_id: str) -> str | None:
    instance, action = _load(instance_uuid, request_id)
    if not _building(instance) or instance.task_state != T.SCHEDULING:
        log.info("schedule of %s skipped: not waiting to be scheduled", instance_uuid)
        return None
    if action is not None:  # under the schedule lock nobody runs it: an open one's scheduler died
        action.events.filter(event="schedule", finish_time__isnull=True).update(
            finish_time=timezone.now(), result="Error", details="The scheduler running it stopped; scheduled again.")
    if instance.host:  # a scheduler died between its claim and sending the host steps
        claims.release(None, instance, clear_host=True)
    try:
        with event(action, "schedule"):
            claim = claims.schedule_and_claim(instance)
            pause_point("schedule", instance.uuid)
    except NoValidHost as exc:
        _error(instance, action, exc, expected=T.SCHEDULING, code=exc.code)
        return None
    except claims.ClaimFailed as exc:  # the instance was deleted meanwhile
        log.info("schedule of %s stopped: %s", instance_uuid, exc.message)
        return None
    try:  # the attempt recorded (RetryFilter) in the same UPDATE that moves the state on
        update_state(instance, expected_task_state=T.SCHEDULING, expected_vm_state=states.BUILDING,
                     task_state=STEPS[0][1], retry=next_retry(instance.retry, claim.host, instance.node))
    except UnexpectedTaskState:  # being deleted: the delete on that host releases the claim
        return None
    send_host_steps(instance, request_id)
    log.info("instance %s scheduled to %s (attempt %d)", instance.uuid, claim.host, _attempt(instance))
    return claim.host


def send_host_steps(instance: Instance, request_id: str, first: int = 0) -> None:
    """The remaining steps, from STEPS[first], as one chain on compute.<host>."""
    rpc.run_host_steps(instance.host, str(instance.uuid), request_id, _attempt(instance),
                       [name for name, _runs_in, _leaves in STEPS[first:]])


# --- host steps --------------------------------------------------------------------------------


def run_step(name: str, instance_uuid, request_id: str, host: str, attempt: int) -> bool:
    """Run step `name` on this host. True: the chain goes on. False: stop the chain (the
    instance is gone, moved on, or this attempt failed and was rolled back)."""
    index = next(i for i, entry in enumerate(STEPS) if entry[0] == name)
    _name, runs_in, leaves = STEPS[index]
    with instance_lock(instance_uuid):
        instance, action = _load(instance_uuid, request_id)
        if not _building(instance) or instance.host != host or _attempt(instance) != attempt:
            log.info("%s of %s skipped: no longer building here (attempt %s)", name, instance_uuid, attempt)
            return False
        if instance.task_state in STEP_STATES[index + 1:]:
            return True  # re-delivered: this step's work is done already
        if instance.task_state != runs_in:
            return False
        try:
            with event(action, name, host=host):
                STEP_FUNCTIONS[name](instance, host)
                pause_point(name, instance.uuid)
        except (OperationalError, InterfaceError):
            # the database went away (a PostgreSQL restart), not the step: nothing is rolled
            # back (that would fail too) and the task runs the step again (compute/tasks.py)
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is rolled back and reported
            log.warning("%s of instance %s failed on %s: %s", name, instance.uuid, host, exc)
            fail_attempt(instance, action, host, exc, step_state=runs_in)
            return False
        if leaves is None:
            return _became_active(instance, action, host)
        try:
            update_state(instance, expected_task_state=runs_in, expected_vm_state=states.BUILDING, task_state=leaves)
        except UnexpectedTaskState:
            return False
        return True


def _allocate_ip(instance: Instance, host: str) -> None:
    server_groups.check_on_host(instance, host)  # the group policy's late check (rescheduled)
    hr.allocate_network(instance, host)


def _fetch_image(instance: Instance, host: str) -> None:
    hr.prepare_disk(instance)


def _spawn(instance: Instance, host: str) -> None:
    power = hr.driver().spawn(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)
    instance.power_state = power


STEP_FUNCTIONS = {"allocate_ip": _allocate_ip, "fetch_image": _fetch_image, "spawn": _spawn}


def _became_active(instance: Instance, action, host: str) -> bool:
    try:
        update_state(
            instance, expected_task_state=T.SPAWNING, expected_vm_state=states.BUILDING,
            vm_state=states.ACTIVE, task_state=None, power_state=instance.power_state,
            launched_at=timezone.now(),
        )
    except UnexpectedTaskState:  # deleted while spawning: the delete tears the domain down
        return False
    if action is not None:
        finish_action(action)
    log.info("instance %s is active on %s", instance.uuid, host)
    return True


# --- failure -----------------------------------------------------------------------------------


def fail_attempt(instance: Instance, action, host: str, exc: Exception, step_state: str) -> None:
    """Roll back what this attempt holds on `host`, then reschedule or go to ERROR."""
    cleaned = True
    try:
        hr.cleanup(instance, host)
    except (DriverError, OSError) as cleanup_exc:
        cleaned = False
        log.exception("rollback of instance %s on %s incomplete: %s", instance.uuid, host, cleanup_exc)
    claims.release(host, instance, clear_host=cleaned)
    instance.refresh_from_db()
    if not _building(instance):
        return
    if isinstance(exc, NOT_RESCHEDULED):
        _error(instance, action, exc, expected=step_state)
    elif max_attempts_reached(instance):
        message = (f"Exceeded maximum number of retries. Exhausted all hosts available for retrying build "
                   f"failures for instance {instance.uuid}. Last failure on {host}: {getattr(exc, 'message', exc)}")
        _error(instance, action, message, expected=step_state)
    else:
        try:
            with transaction.atomic():
                update_state(instance, expected_task_state=step_state, expected_vm_state=states.BUILDING,
                             task_state=T.SCHEDULING, host=None, node=None)
                record_fault(instance, exc, host=host)  # kept in the history; the server goes on elsewhere
        except UnexpectedTaskState:
            return
        log.info("rescheduling instance %s after a failure on %s", instance.uuid, host)
        rpc.reschedule_instance(str(instance.uuid), action.request_id if action else "-")


def _error(instance: Instance, action, exc_or_message, expected, code: int | None = None) -> None:
    """vm_state ERROR with a fault, unless the instance moved on (deleted meanwhile)."""
    # one transaction: nobody sees ERROR without the fault that explains it
    try:
        with transaction.atomic():
            update_state(instance, expected_task_state=expected, expected_vm_state=states.BUILDING,
                         vm_state=states.ERROR, task_state=None)
            record_fault(instance, exc_or_message, code=code)
            if action is not None:
                finish_action(action, "Error")
    except UnexpectedTaskState:
        return
    log.warning("instance %s is in ERROR: %s", instance.uuid, getattr(exc_or_message, "message", exc_or_message))
