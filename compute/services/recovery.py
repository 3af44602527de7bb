"""Settling what a crash or a stall left in flight.

    recover_host(host)    when an agent starts (Nova's init_host): deletes in flight are
                          finished; a boot step that was running when the agent died is
                          run again from the start (steps are idempotent), unless it was
                          interrupted BUILD_STEP_RESUMES times already: then it is rolled
                          back and rescheduled (or ERROR with a fault); boot steps not
                          started yet are sent again (a duplicate delivery converges);
                          an action (reboot, stop, rebuild...) that was running is settled
                          from the guest's power state with a fault (a rebuild: ERROR)
    recover_scheduler()   when a scheduler starts: every build waiting to be scheduled is
                          sent to the scheduler queue again (the message a killed scheduler
                          had taken is not redelivered before the broker's visibility
                          timeout; a duplicate waits on the schedule lock and then skips)
    reap_stuck(now)       periodic, on the scheduler queue (Nova's instance_build_timeout):
                          BUILD past BUILD_TIMEOUT → ERROR with a fault, and the host gives
                          back what the build held; deleting past it → the delete is sent
                          again, or finished here when the host is down
    resend_stalled(now)   periodic, with the reaper: a build whose step message was lost (a
                          broker that died between handing a message out and recording it
                          as unacknowledged) has not moved for BUILD_STEP_RESEND_AFTER
                          seconds and no step is running: its next step is sent again; a
                          build never scheduled at all (an API killed between its commit and
                          its publish) is sent after BUILD_SCHEDULE_RESEND_AFTER seconds
    abort_build(uuid, host)  on the host: what a reaped build held there (domain, overlay,
                          fixed IP and DHCP entry, capacity claim) is released
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.host.locks import instance_lock

from .. import states
from ..models import Instance, InstanceAction, InstanceActionEvent
from ..scheduler import claims
from ..virt import power_state as ps
from ..virt.driver import DriverError
from . import build, lifecycle
from . import host_resources as hr
from .actions import event_finish, finish_action, record_fault
from cloudproj.exceptions import CloudError
from .instances import UnexpectedTaskState, soft_delete, update_state
from .operations import ACTION_TASK_STATES, compute_is_up, release_addresses

log = logging.getLogger(__name__)

T = states.task


class BuildInterrupted(CloudError):
    code = 500


class ActionInterrupted(CloudError):
    code = 500


# task_state of a running action -> the action (rebuild passes through two)
ACTION_OF_TASK_STATE = {task_state: action for (action, _type), task_state in ACTION_TASK_STATES.items()}
ACTION_OF_TASK_STATE[T.REBUILD_SPAWNING] = "rebuild"
# a vanished domain (NOSTATE) is STOPPED as power-state sync has it: start defines it again
VM_STATE_OF_POWER = {ps.RUNNING: states.ACTIVE, ps.PAUSED: states.PAUSED, ps.SHUTDOWN: states.STOPPED,
                     ps.CRASHED: states.STOPPED, ps.SUSPENDED: states.SUSPENDED, ps.NOSTATE: states.STOPPED}


def _request_id(instance: Instance, action: str) -> str:
    row = (InstanceAction.objects.filter(instance=instance, action=action)
           .order_by("-start_time", "-id").first())
    return row.request_id if row is not None else "-"


# --- agent start -------------------------------------------------------------------------------


def recover_host(host: str) -> dict:
    counts = {"deleted": 0, "resumed": 0, "rolled_back": 0, "actions_settled": 0}
    for instance in Instance.objects.filter(host=host, task_state=T.DELETING):
        if lifecycle.terminate(instance.uuid, _request_id(instance, "delete"), host):
            counts["deleted"] += 1
    building = Instance.objects.filter(host=host, vm_state=states.BUILDING, task_state__in=build.STEP_STATES)
    for instance in building:
        if _settle_build(instance, host):
            counts["rolled_back"] += 1
        else:
            counts["resumed"] += 1
    for instance in Instance.objects.filter(host=host, task_state__in=list(ACTION_OF_TASK_STATE)):
        if _settle_action(instance, host):
            counts["actions_settled"] += 1
    if any(counts.values()):
        log.info("agent %s recovered its instances in flight: %s", host, counts)
    return counts


def _settle_build(instance: Instance, host: str) -> bool:
    """True if the step that was running is rolled back; False if the steps are sent again."""
    index = build.STEP_STATES.index(instance.task_state)
    step, runs_in, _leaves = build.STEPS[index]
    request_id = _request_id(instance, "create")
    with instance_lock(instance.uuid):
        instance.refresh_from_db()
        if instance.host != host or instance.vm_state != states.BUILDING or instance.task_state != runs_in:
            return False
        running = list(InstanceActionEvent.objects.filter(
            action__instance=instance, event=step, host=host, finish_time__isnull=True))
        if not running:
            build.send_host_steps(instance, request_id, first=index)
            return False
        message = f"The agent of {host} stopped during {step} of instance {instance.uuid}."
        action = running[0].action
        interrupted_before = InstanceActionEvent.objects.filter(
            action=action, event=step, host=host, details__startswith=message).count()
        if interrupted_before < int(settings.BUILD_STEP_RESUMES):
            # the step is idempotent (an address, an overlay or a running domain it finds is
            # its own): run it again rather than throw the attempt away
            for evt in running:
                _finish_interrupted(evt, f"{message} The step is run again.")
            build.send_host_steps(instance, request_id, first=index)
            log.warning("%s It is run again (%d of %s).", message, interrupted_before + 1,
                        settings.BUILD_STEP_RESUMES)
            return False
        exc = BuildInterrupted(f"{message} It was interrupted {interrupted_before + 1} times: rolled back.")
        for evt in running:
            event_finish(evt, exc)
        build.fail_attempt(instance, action, host, exc, step_state=runs_in)
        return True


def _finish_interrupted(evt: InstanceActionEvent, details: str) -> None:
    """The event of a step the agent's death cut short: Error with why, while the action (not
    failed: the step runs again) keeps its message."""
    evt.finish_time = timezone.now()
    evt.result = "Error"
    evt.details = details
    evt.save(update_fields=["finish_time", "result", "details"])


def _settle_action(instance: Instance, host: str) -> bool:
    """An action whose work was running when the agent died: its state comes from what the
    guest is now. One not started yet is left to its message, which comes back (late ack)."""
    with instance_lock(instance.uuid):
        instance.refresh_from_db()
        stalled_in = instance.task_state
        action_name = ACTION_OF_TASK_STATE.get(stalled_in)
        if instance.host != host or action_name is None:
            return False
        running = list(InstanceActionEvent.objects.filter(
            action__instance=instance, event=f"compute_{action_name}", host=host, finish_time__isnull=True))
        if not running:
            return False
        exc = ActionInterrupted(f"The agent of {host} stopped during {action_name} of instance {instance.uuid}.")
        for evt in running:
            event_finish(evt, exc)
        try:
            power = hr.driver().get_power_state(str(instance.uuid))
        except DriverError:
            power = ps.NOSTATE
        # a rebuild cut short left a disk of unknown content, as Nova: ERROR
        vm_state = states.ERROR if action_name == "rebuild" else VM_STATE_OF_POWER.get(power, states.ERROR)
        # one transaction: nobody sees the settled state without the fault that explains it
        try:
            with transaction.atomic():
                update_state(instance, expected_task_state=stalled_in, task_state=None, vm_state=vm_state,
                             power_state=power)
                record_fault(instance, exc, host=host)
                finish_action(running[0].action, "Error")
        except UnexpectedTaskState:
            return False
        log.warning("%s", exc.message)
        return True


# --- lost step messages -----------------------------------------------------------------------


def resend_stalled(now=None) -> dict:
    counts = {"schedule": 0, "host_steps": 0}
    now = now or timezone.now()
    unsent = _resend_unsent(now)
    after = float(settings.BUILD_STEP_RESEND_AFTER)
    if after > 0:
        cutoff = now - timedelta(seconds=after)
        stalled = Instance.objects.filter(vm_state=states.BUILDING, updated_at__lt=cutoff,
                                          task_state__in=(T.SCHEDULING, *build.STEP_STATES))
        for instance in stalled:
            kind = _resend(instance)
            if kind:
                counts[kind] += 1
        if any(counts.values()):
            log.warning("builds stalled for %g s without a running step, their next step sent again: %s",
                        after, counts)
    counts["schedule"] += unsent
    return counts


def _resend_unsent(now) -> int:
    """Builds no scheduler ever started (no `schedule` event) BUILD_SCHEDULE_RESEND_AFTER
    seconds after their last change: the API that committed them died before publishing, or
    the message went with a killed scheduler. Sent again (touched first, as in _resend)."""
    after = float(settings.BUILD_SCHEDULE_RESEND_AFTER)
    if after <= 0:
        return 0
    waiting = (Instance.objects.filter(vm_state=states.BUILDING, task_state=T.SCHEDULING,
                                       updated_at__lt=now - timedelta(seconds=after))
               .exclude(actions__events__event="schedule"))
    sent = 0
    for instance in waiting:
        try:
            update_state(instance, expected_task_state=T.SCHEDULING, expected_vm_state=states.BUILDING,
                         task_state=T.SCHEDULING)
        except UnexpectedTaskState:
            continue
        rpc.schedule_instance(str(instance.uuid), _request_id(instance, "create"))
        sent += 1
    if sent:
        log.warning("%d build(s) never scheduled after %g s: their schedule sent again", sent, after)
    return sent


def recover_scheduler() -> int:
    """A scheduler that starts sends every build waiting to be scheduled to the queue again:
    one a killed scheduler had taken (Redis gives it back only after the visibility timeout)
    goes on now; a duplicate of a message still queued, or of one another scheduler runs,
    waits on the schedule lock and skips (build.schedule)."""
    sent = 0
    for instance in Instance.objects.filter(vm_state=states.BUILDING, task_state=T.SCHEDULING):
        rpc.schedule_instance(str(instance.uuid), _request_id(instance, "create"))
        sent += 1
    if sent:
        log.info("scheduler start: %d build(s) waiting to be scheduled sent again", sent)
    return sent


def _resend(instance: Instance) -> str | None:
    """Send the step `instance` waits for again (a duplicate delivery converges: each step
    checks the task_state under the instance lock). Touching updated_at first makes the next
    resend wait another BUILD_STEP_RESEND_AFTER and loses any race with a step that moved on."""
    stalled_in = instance.task_state
    if stalled_in == T.SCHEDULING:
        step, host = "schedule", None
    else:
        step, host = build.STEPS[build.STEP_STATES.index(stalled_in)][0], instance.host
        if not compute_is_up(host):
            return None  # the agent settles its builds when it starts (recover_host), or the reaper does
    if InstanceActionEvent.objects.filter(action__instance=instance, event=step, finish_time__isnull=True).exists():
        return None  # running (a slow step), or its worker died: redelivery or the reaper settles it
    try:
        update_state(instance, expected_task_state=stalled_in, expected_vm_state=states.BUILDING, task_state=stalled_in)
    except UnexpectedTaskState:
        return None
    request_id = _request_id(instance, "create")
    if host is None:
        rpc.schedule_instance(str(instance.uuid), request_id)
        return "schedule"
    build.send_host_steps(instance, request_id, first=build.STEP_STATES.index(stalled_in))
    return "host_steps"


# --- build timeout -----------------------------------------------------------------------------


def reap_stuck(now=None) -> dict:
    timeout = float(settings.BUILD_TIMEOUT)
    if timeout <= 0:
        return {"errored": 0, "deletes": 0}
    cutoff = (now or timezone.now()) - timedelta(seconds=timeout)
    errored = deletes = 0
    stuck = Instance.objects.filter(vm_state=states.BUILDING, created_at__lt=cutoff).exclude(task_state=T.DELETING)
    for instance in stuck:
        errored += _reap_build(instance, timeout)
    for instance in Instance.objects.filter(task_state=T.DELETING, updated_at__lt=cutoff):
        _retry_delete(instance)
        deletes += 1
    return {"errored": errored, "deletes": deletes}


def _reap_build(instance: Instance, timeout: float) -> int:
    stalled_in = instance.task_state
    try:
        update_state(instance, expected_task_state=stalled_in, expected_vm_state=states.BUILDING,
                     vm_state=states.ERROR, task_state=None)
    except UnexpectedTaskState:
        return 0
    message = (f"Build of instance {instance.uuid} timed out after {timeout:g} seconds "
               f"(BUILD_TIMEOUT) in task_state {stalled_in}.")
    record_fault(instance, message, code=500, host=instance.host)
    action = (InstanceAction.objects.filter(instance=instance, action="create", finish_time__isnull=True)
              .order_by("-start_time").first())
    if action is not None:
        finish_action(action, "Error")
    if instance.host:
        rpc.abort_build(instance.host, str(instance.uuid))
    else:
        claims.release(None, instance)
    log.warning("%s", message)
    return 1


def _retry_delete(instance: Instance) -> None:
    request_id = _request_id(instance, "delete")
    if compute_is_up(instance.host):
        try:  # touched: the next retry waits another BUILD_TIMEOUT
            update_state(instance, expected_task_state=T.DELETING, task_state=T.DELETING)
        except UnexpectedTaskState:
            return
        rpc.terminate_instance(instance.host, str(instance.uuid), request_id, now=True)
        log.warning("delete of instance %s stalled on %s: sent again", instance.uuid, instance.host)
        return
    release_addresses(instance)
    soft_delete(instance)
    action = InstanceAction.objects.filter(instance=instance, action="delete", finish_time__isnull=True).first()
    if action is not None:
        finish_action(action)
    log.warning("delete of instance %s stalled and host %s is down: deleted here", instance.uuid, instance.host)


def abort_build(instance_uuid, host: str) -> bool:
    with instance_lock(instance_uuid):
        instance = Instance.all_objects.filter(uuid=instance_uuid).first()
        # deleted meanwhile (here, while the host was down): its leftovers still go
        if instance is None or instance.host != host or instance.vm_state not in (states.ERROR, states.DELETED):
            return False
        try:
            hr.cleanup(instance, host)
        except (DriverError, OSError):
            log.exception("releasing the reaped build of %s on %s failed; a delete retries", instance_uuid, host)
            return False
        claims.release(host, instance, clear_host=True)
        return True
