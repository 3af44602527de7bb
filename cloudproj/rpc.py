"""Every message the cloud sends to its workers: one typed function per remote task, naming
its task (cloudproj.task_names), its queue and its arguments. Services, API views, the
dashboard and commands send through these only; they never import a tasks module.
Messages carry ids only.

How a function sends is part of its contract:
- after commit (`_after_commit`): a worker never sees a message for rows it cannot read
  yet, and a rolled-back request sends nothing;
- at once with the broker's bounded retry (`_publish_now`): ServiceUnavailable (503) when
  the broker stays unreachable past BROKER_PUBLISH_RETRY_TIMEOUT;
- a call (`call`): waits for the host's answer, ServiceUnavailable (503) past the timeout.
The request id travels in a message header (cloudproj.observability.celery_signals).

Tasks only beat starts (housekeeping, the periodic fan-out) have no function here: their
names are in settings.CELERY_BEAT_SCHEDULE.
"""
from collections.abc import Sequence

from celery.exceptions import TimeoutError as CeleryTimeout
from celery.result import AsyncResult
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError

from cloudproj import task_names as names
from cloudproj.celery import SCHEDULER_QUEUE, app, host_queue
from cloudproj.exceptions import ServiceUnavailable
from cloudproj.middleware import current_request_id

# --- how messages go out -------------------------------------------------------------------------


def _after_commit(task_name: str, args: list, queue: str) -> None:
    transaction.on_commit(lambda: app.send_task(task_name, args=args, queue=queue))


def _publish_now(task_name: str, args: list, queue: str) -> None:
    """Send at once (outside any transaction), waiting up to BROKER_PUBLISH_RETRY_TIMEOUT
    for a broker that is restarting. ServiceUnavailable (503) if it stays unreachable."""
    try:
        app.send_task(task_name, args=args, queue=queue)
    except (KombuOperationalError, OSError) as exc:
        raise ServiceUnavailable(
            f"The message queue is unavailable ({exc}); try again later."
        ) from exc


def call(host: str, task_name: str, *args, timeout: float | None = None, topic: str = "compute"):
    """Ask `host`'s agent (on its `topic` queue) and wait for the answer (tasks with
    ignore_result=False only). ServiceUnavailable (503) when it does not answer in time
    (HOST_CALL_TIMEOUT)."""
    timeout = settings.HOST_CALL_TIMEOUT if timeout is None else timeout
    result = app.send_task(task_name, args=list(args), queue=host_queue(topic, host))
    try:
        return result.get(timeout=timeout, interval=0.1, propagate=True)
    except CeleryTimeout:
        result.revoke()
        raise ServiceUnavailable(f"Host {host} did not answer within {timeout:g} seconds; try again later.") from None
    finally:
        result.forget()


def _compute(host: str) -> str:
    return host_queue("compute", host)


def _network(host: str) -> str:
    return host_queue("network", host)


def _volume(host: str) -> str:
    return host_queue("volume", host)


# --- compute: the boot pipeline ------------------------------------------------------------------


def schedule_instance(instance_uuid: str, request_id: str) -> None:
    """Ask the scheduler to place a building instance (at once; 503 if the broker is down)."""
    _publish_now(names.SCHEDULE_INSTANCE, [instance_uuid, request_id], SCHEDULER_QUEUE)


def reschedule_instance(instance_uuid: str, request_id: str) -> None:
    """From a failed host step: schedule the instance again (at once; a broker error fails
    the step's task)."""
    app.send_task(names.SCHEDULE_INSTANCE, args=[instance_uuid, request_id], queue=SCHEDULER_QUEUE)


def run_host_steps(host: str, instance_uuid: str, request_id: str, attempt: int, steps: Sequence[str]) -> None:
    """The boot steps `steps` (names of task_names.HOST_STEP_TASKS, in order) as one chain on
    compute.<host>, every link routed there (DESIGN 9: a queue set on the chain alone only
    routes its first task). The steps belong to the request that created the server, also
    when an agent that restarted sends them again (its own context has no request id)."""
    queue = _compute(host)
    args = [instance_uuid, request_id, host, attempt]
    links = [app.signature(names.HOST_STEP_TASKS[step], args=args, queue=queue, immutable=True) for step in steps]
    signature = links[0]
    for link in links[1:]:
        signature = signature | link
    token = current_request_id.set(request_id)
    try:
        signature.apply_async()
    finally:
        current_request_id.reset(token)


def abort_build(host: str, instance_uuid: str) -> None:
    """On the host of a reaped build: give back what it held there (at once; 503 if the
    broker is down)."""
    _publish_now(names.ABORT_BUILD, [instance_uuid, host], _compute(host))


# --- compute: on the instance's host -------------------------------------------------------------


def instance_action(host: str, instance_uuid: str, request_id: str, action: str, params: dict) -> None:
    _after_commit(names.INSTANCE_ACTION, [instance_uuid, request_id, action, params], _compute(host))


def prep_resize(instance_uuid: str, request_id: str) -> None:
    """Ask the scheduler for a resize's destination (after commit)."""
    _after_commit(names.PREP_RESIZE, [instance_uuid, request_id], SCHEDULER_QUEUE)


def resize_step(host: str, step: str, instance_uuid: str, request_id: str) -> None:
    """A resize step (a key of task_names.RESIZE_STEP_TASKS) on compute.<host> (after commit)."""
    _after_commit(names.RESIZE_STEP_TASKS[step], [instance_uuid, request_id], _compute(host))


def live_migration_schedule(instance_uuid: str, request_id: str) -> None:
    """A live migration's target chosen and claimed on `scheduler` (after commit)."""
    _after_commit(names.LIVE_MIGRATION_SCHEDULE, [instance_uuid, request_id], SCHEDULER_QUEUE)


def live_migration_step(host: str, step: str, instance_uuid: str, request_id: str) -> None:
    """A live migration step (a key of task_names.LIVE_MIGRATION_STEP_TASKS) on compute.<host>
    (after commit)."""
    _after_commit(names.LIVE_MIGRATION_STEP_TASKS[step], [instance_uuid, request_id], _compute(host))


def unshelve_schedule(instance_uuid: str, request_id: str) -> None:
    """Ask the scheduler for a host for an offloaded server (after commit)."""
    _after_commit(names.UNSHELVE_SCHEDULE, [instance_uuid, request_id], SCHEDULER_QUEUE)


def unshelve_spawn(host: str, instance_uuid: str, request_id: str) -> None:
    """The offloaded server's disk and domain on its new host (after commit)."""
    _after_commit(names.UNSHELVE_SPAWN, [instance_uuid, request_id], _compute(host))


def evacuate_schedule(instance_uuid: str, request_id: str) -> None:
    """Ask the scheduler for a new host for a server whose host is down (after commit)."""
    _after_commit(names.EVACUATE_SCHEDULE, [instance_uuid, request_id], SCHEDULER_QUEUE)


def evacuate_spawn(host: str, instance_uuid: str, request_id: str) -> None:
    """The evacuated server rebuilt from its image on its new host (after commit)."""
    _after_commit(names.EVACUATE_SPAWN, [instance_uuid, request_id], _compute(host))


def snapshot_instance(host: str, instance_uuid: str, request_id: str, image_id: str,
                      rotation: int | None = None) -> None:
    """createImage, or createBackup with its `rotation` (the host deletes older backups)."""
    args: list = [instance_uuid, request_id, image_id]
    if rotation is not None:
        args.append(rotation)
    _after_commit(names.SNAPSHOT_INSTANCE, args, _compute(host))


def terminate_instance(host: str, instance_uuid: str, request_id: str, *, now: bool = False) -> None:
    """After commit; `now`: at once, 503 if the broker is down (a retried delete)."""
    args = [instance_uuid, request_id, host]
    if now:
        _publish_now(names.TERMINATE_INSTANCE, args, _compute(host))
    else:
        _after_commit(names.TERMINATE_INSTANCE, args, _compute(host))


def reap_deleted_instance(host: str, instance_uuid: str) -> None:
    _after_commit(names.REAP_DELETED_INSTANCE, [instance_uuid, host], _compute(host))


def _host_pass(task_name: str, queue: str, host: str, expires: float) -> None:
    """A periodic reconciliation pass (compute.services.periodic_hosts): at once, expiring
    after one interval so nothing piles up for a host that is down."""
    app.send_task(task_name, args=[host], queue=queue, expires=expires)


def sync_power_states(host: str, expires: float) -> None:
    _host_pass(names.SYNC_POWER_STATES, _compute(host), host, expires)


def running_deleted_instances(host: str, expires: float) -> None:
    _host_pass(names.RUNNING_DELETED_INSTANCES, _compute(host), host, expires)


def cleanup_network_orphans(host: str, expires: float) -> None:
    _host_pass(names.CLEANUP_NETWORK_ORPHANS, _network(host), host, expires)


def ping(host: str, topic: str = "compute") -> AsyncResult:
    """`compute.ping` to the queue only `host`'s agent consumes for `topic`; its result."""
    return app.send_task(names.PING, args=[host], queue=host_queue(topic, host))


def list_domains(host: str, timeout: float | None = None) -> list[dict]:
    """The domains `host`'s hypervisor has (name, uuid, power state)."""
    return call(host, names.LIST_DOMAINS, timeout=timeout)


def console_output(host: str, instance_uuid: str, length: int | None) -> str:
    return call(host, names.GET_CONSOLE_OUTPUT, instance_uuid, length)


def server_diagnostics(host: str, instance_uuid: str) -> dict:
    """The instance's diagnostics from `host`'s hypervisor ({"error": reason} when it has none)."""
    return call(host, names.GET_DIAGNOSTICS, instance_uuid)


def host_uptime(host: str) -> str:
    """`host`'s uptime line (the `uptime` command's output)."""
    return call(host, names.HOST_UPTIME)


def vnc_console(host: str, instance_uuid: str) -> dict:
    """Where the instance's VNC server listens on `host`: {"host", "port"} or {"error"}."""
    return call(host, names.GET_VNC_CONSOLE, instance_uuid)


# --- network, security groups, floating IPs ------------------------------------------------------


def refresh_dhcp(host: str, network_id: int) -> str:
    """Regenerate the network's DHCP hosts on `host` after commit; the queue it goes to."""
    queue = _network(host)
    _after_commit(names.REFRESH_DHCP, [network_id, host], queue)
    return queue


def teardown_network(host: str, network_id: int) -> None:
    """At once (the caller runs after commit and logs a broker error)."""
    app.send_task(names.TEARDOWN_NETWORK, args=[network_id], queue=_network(host))


def refresh_instance_security_groups(host: str, instance_uuid: str) -> None:
    _after_commit(names.REFRESH_INSTANCE_SECURITY_GROUPS, [instance_uuid], _compute(host))


def sync_floating_ips(host: str) -> None:
    """At once (the caller runs after commit and logs a broker error)."""
    app.send_task(names.SYNC_FLOATING_IPS, args=[host], queue=_network(host))


# --- volumes -------------------------------------------------------------------------------------


def create_volume(host: str, volume_id: int) -> None:
    _after_commit(names.CREATE_VOLUME, [volume_id], _volume(host))


def extend_volume(host: str, volume_id: int, new_size: int) -> None:
    _after_commit(names.EXTEND_VOLUME, [volume_id, new_size], _volume(host))


def upload_volume_to_image(host: str, volume_id: int, image_id: str) -> None:
    _after_commit(names.UPLOAD_VOLUME_TO_IMAGE, [volume_id, image_id], _volume(host))


def delete_volume(host: str, volume_id: int) -> None:
    _after_commit(names.DELETE_VOLUME, [volume_id], _volume(host))


def create_volume_snapshot(host: str, snapshot_id: int) -> None:
    _after_commit(names.CREATE_VOLUME_SNAPSHOT, [snapshot_id], _volume(host))


def delete_volume_snapshot(host: str, snapshot_id: int) -> None:
    _after_commit(names.DELETE_VOLUME_SNAPSHOT, [snapshot_id], _volume(host))


def unexport_volume(host: str, volume_id: int) -> None:
    _after_commit(names.UNEXPORT_VOLUME, [volume_id], _volume(host))


def export_volume(host: str, attachment_id: int, timeout: float) -> dict:
    """On the volume's host: export it for the server's host; the connection to use."""
    return call(host, names.EXPORT_VOLUME, attachment_id, topic="volume", timeout=timeout)


def attach_volume_on_host(host: str, attachment_id: int, timeout: float) -> str:
    """On the server's host: attach the volume to the domain; the device."""
    return call(host, names.ATTACH_VOLUME_ON_HOST, attachment_id, timeout=timeout)


def detach_volume_on_host(host: str, attachment_id: int, timeout: float) -> bool:
    return call(host, names.DETACH_VOLUME_ON_HOST, attachment_id, timeout=timeout)
