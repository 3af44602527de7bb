"""Compute tasks (thin: they call compute.services). Imported by every worker, which
also wires agent registration/heartbeats through compute.agent's worker signals.

Messages carry ids only. The boot pipeline: `compute.schedule_instance` on `scheduler`,
then `compute.allocate_ip` → `compute.fetch_image` → `compute.spawn` on compute.<host>
(compute/services/build.py). Actions and deletes run on the instance's host queue.
"""
import logging

from celery import shared_task
from celery.exceptions import Ignore

from cloudproj.celery import host_queue

from . import agent  # connects the worker_init/worker_shutdown handlers
from .services import build, image_cache, lifecycle, periodic_hosts, reconcile, recovery, snapshots


@shared_task(name="compute.ping", ignore_result=False)
def ping(host: str | None = None) -> dict:
    """Answer with the host this worker acts for; proves per-host queue routing."""
    return {"host": agent.current_host(), "requested": host}


def send_ping(host: str, topic: str = "compute"):
    """Send `ping` to the queue only host `host`'s agent consumes; returns the AsyncResult."""
    return ping.apply_async(args=[host], queue=host_queue(topic, host))


@shared_task(name=build.SCHEDULE_TASK)
def schedule_instance(instance_uuid: str, request_id: str):
    return build.schedule(instance_uuid, request_id)


def _step(name):
    def run(instance_uuid: str, request_id: str, host: str, attempt: int):
        if not build.run_step(name, instance_uuid, request_id, host, attempt):
            raise Ignore()  # stops the chain: the instance moved on or the attempt was rolled back
        return name

    run.__name__ = name
    run.__doc__ = f"Boot pipeline step `{name}` on the instance's host."
    return shared_task(name=f"compute.{name}")(run)


allocate_ip = _step("allocate_ip")
fetch_image = _step("fetch_image")
spawn = _step("spawn")


@shared_task(name="compute.instance_action")
def instance_action(instance_uuid: str, request_id: str, action: str, params: dict | None = None):
    return lifecycle.run_action(instance_uuid, request_id, action, params)


@shared_task(name=snapshots.SNAPSHOT_TASK)
def snapshot_instance(instance_uuid: str, request_id: str, image_id: str):
    return snapshots.run_snapshot(instance_uuid, request_id, image_id)


@shared_task(name="compute.terminate_instance")
def terminate_instance(instance_uuid: str, request_id: str, host: str):
    return lifecycle.terminate(instance_uuid, request_id, host)


@shared_task(name="compute.list_domains", ignore_result=False)
def list_domains():
    """The domains the hypervisor of this host has (name, uuid, power state): for operators
    and reconciliation, which compare them with the instances the DB places here."""
    return lifecycle.list_domains()


@shared_task(name="compute.get_console_output", ignore_result=False)
def get_console_output(instance_uuid: str, length: int | None = None) -> str:
    """The tail of the instance's console log on this host (bounded: CONSOLE_OUTPUT_MAX_BYTES)."""
    return lifecycle.console_tail(instance_uuid, length)


@shared_task(name="compute.get_vnc_console", ignore_result=False)
def get_vnc_console(instance_uuid: str) -> dict:
    """Where the instance's live VNC server listens on this host ({"host", "port"} or {"error"})."""
    return lifecycle.vnc_console(instance_uuid)


@shared_task(name="compute.cleanup_image_cache", ignore_result=False)
def cleanup_image_cache(min_age: float | None = None) -> list[str]:
    """Remove the cached bases no instance of this host uses (what the periodic cleanup does)."""
    return image_cache.cleanup_host_cache(agent.current_host(), min_age)


@shared_task(name="compute.fan_out_host_task")
def fan_out_host_task(kind: str) -> list[str]:
    """Beat's entry point (queue `scheduler`): the host task of `kind` to every live host."""
    return periodic_hosts.fan_out(kind)


def _for_this_host(host: str) -> bool:
    if host != agent.current_host():
        logging.getLogger(__name__).warning("periodic task for %s reached %s: ignored", host, agent.current_host())
        return False
    return True


@shared_task(name="compute.sync_power_states")
def sync_power_states(host: str) -> dict | None:
    return reconcile.sync_power_states(host) if _for_this_host(host) else None


@shared_task(name="compute.running_deleted_instances")
def running_deleted_instances(host: str) -> dict | None:
    return reconcile.running_deleted(host) if _for_this_host(host) else None


@shared_task(name="compute.reap_deleted_instance")
def reap_deleted_instance(instance_uuid: str, host: str):
    """After a force delete: the domain, disk and host state of the deleted instance go."""
    return reconcile.reap_deleted(instance_uuid, host) if _for_this_host(host) else None


@shared_task(name="compute.reap_stuck_builds")
def reap_stuck_builds() -> dict:
    """Periodic (beat, BUILD_TIMEOUT_CHECK_INTERVAL): builds and deletes past BUILD_TIMEOUT,
    and builds whose step message was lost (BUILD_STEP_RESEND_AFTER)."""
    return {**recovery.reap_stuck(), **recovery.resend_stalled()}


@shared_task(name=recovery.ABORT_BUILD_TASK)
def abort_build(instance_uuid: str, host: str) -> bool:
    """On the host of a reaped build: give back what it held there."""
    return recovery.abort_build(instance_uuid, host)
