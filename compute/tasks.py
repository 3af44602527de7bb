"""Compute tasks (thin: they call compute.services). Imported by every worker, which
also wires agent registration/heartbeats through compute.agent's worker signals.

Messages carry ids only. The boot pipeline: `compute.schedule_instance` on `scheduler`,
then `compute.allocate_ip` → `compute.fetch_image` → `compute.spawn` on compute.<host>
(compute/services/build.py). Actions and deletes run on the instance's host queue.
"""
import logging

from celery import shared_task
from celery.exceptions import Ignore
from django.db import InterfaceError, OperationalError

from cloudproj import task_names as names
from cloudproj.host import identity

from . import agent  # noqa: F401 - connects the worker_init/worker_ready/worker_shutdown handlers
from .services import (
    build, evacuate, evacuate_host, image_cache, lifecycle, live_migration, live_migration_host, operations,
    periodic_hosts, reconcile, recovery, resize, resize_host, shelve, shelve_host, snapshot_host,
)


@shared_task(name=names.PING, ignore_result=False)
def ping(host: str | None = None) -> dict:
    """Answer with the host this worker acts for; proves per-host queue routing."""
    return {"host": identity.current_host(), "requested": host}


# A boot step that lost the database (PostgreSQL restarted under it) runs again once it is back:
# every 2 s for up to 3 minutes (Celery's Django fixup closes the broken connection first).
DATABASE_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "default_retry_delay": 2, "max_retries": 90}


@shared_task(name=names.SCHEDULE_INSTANCE, **DATABASE_RETRY)
def schedule_instance(instance_uuid: str, request_id: str):
    return build.schedule(instance_uuid, request_id)


def _step(name):
    def run(instance_uuid: str, request_id: str, host: str, attempt: int):
        if not build.run_step(name, instance_uuid, request_id, host, attempt):
            raise Ignore()  # stops the chain: the instance moved on or the attempt was rolled back
        return name

    run.__name__ = name
    run.__doc__ = f"Boot pipeline step `{name}` on the instance's host."
    return shared_task(name=names.HOST_STEP_TASKS[name], **DATABASE_RETRY)(run)


allocate_ip = _step("allocate_ip")
fetch_image = _step("fetch_image")
spawn = _step("spawn")


@shared_task(name=names.INSTANCE_ACTION)
def instance_action(instance_uuid: str, request_id: str, action: str, params: dict | None = None):
    return lifecycle.run_action(instance_uuid, request_id, action, params)


@shared_task(name=names.SNAPSHOT_INSTANCE)
def snapshot_instance(instance_uuid: str, request_id: str, image_id: str, rotation: int | None = None):
    return snapshot_host.run_snapshot(instance_uuid, request_id, image_id, rotation)


@shared_task(name=names.TERMINATE_INSTANCE)
def terminate_instance(instance_uuid: str, request_id: str, host: str):
    return lifecycle.terminate(instance_uuid, request_id, host)


@shared_task(name=names.LIST_DOMAINS, ignore_result=False)
def list_domains():
    """The domains the hypervisor of this host has (name, uuid, power state): for operators
    and reconciliation, which compare them with the instances the DB places here."""
    return lifecycle.list_domains()


@shared_task(name=names.GET_CONSOLE_OUTPUT, ignore_result=False)
def get_console_output(instance_uuid: str, length: int | None = None) -> str:
    """The tail of the instance's console log on this host (bounded: CONSOLE_OUTPUT_MAX_BYTES)."""
    return lifecycle.console_tail(instance_uuid, length)


@shared_task(name=names.GET_DIAGNOSTICS, ignore_result=False)
def get_diagnostics(instance_uuid: str) -> dict:
    """The instance's diagnostics from this host's hypervisor (or {"error": reason})."""
    from .services import diagnostics_host

    return diagnostics_host.host_diagnostics(instance_uuid)


@shared_task(name=names.HOST_UPTIME, ignore_result=False)
def host_uptime() -> str:
    """This host's `uptime` line (os-hypervisors/{id}/uptime)."""
    from .virt.uptime import host_uptime as uptime

    return uptime()


@shared_task(name=names.GET_VNC_CONSOLE, ignore_result=False)
def get_vnc_console(instance_uuid: str) -> dict:
    """Where the instance's live VNC server listens on this host ({"host", "port"} or {"error"})."""
    return lifecycle.vnc_console(instance_uuid)


@shared_task(name=names.CLEANUP_IMAGE_CACHE, ignore_result=False)
def cleanup_image_cache(min_age: float | None = None) -> list[str]:
    """Remove the cached bases no instance of this host uses (what the periodic cleanup does)."""
    return image_cache.cleanup_host_cache(identity.current_host(), min_age)


@shared_task(name=names.FAN_OUT_HOST_TASK)
def fan_out_host_task(kind: str) -> list[str]:
    """Beat's entry point (queue `scheduler`): the host task of `kind` to every live host."""
    return periodic_hosts.fan_out(kind)


def _for_this_host(host: str) -> bool:
    if host != identity.current_host():
        logging.getLogger(__name__).warning("periodic task for %s reached %s: ignored", host, identity.current_host())
        return False
    return True


@shared_task(name=names.SYNC_POWER_STATES)
def sync_power_states(host: str) -> dict | None:
    return reconcile.sync_power_states(host) if _for_this_host(host) else None


@shared_task(name=names.RUNNING_DELETED_INSTANCES)
def running_deleted_instances(host: str) -> dict | None:
    return reconcile.running_deleted(host) if _for_this_host(host) else None


@shared_task(name=names.REAP_DELETED_INSTANCE)
def reap_deleted_instance(instance_uuid: str, host: str):
    """After a force delete: the domain, disk and host state of the deleted instance go."""
    return reconcile.reap_deleted(instance_uuid, host) if _for_this_host(host) else None


@shared_task(name=names.RECLAIM_SOFT_DELETED)
def reclaim_soft_deleted() -> list[str]:
    """Periodic (beat, when RECLAIM_INSTANCE_INTERVAL > 0): soft-deleted servers past it deleted."""
    return operations.reclaim_soft_deleted()


@shared_task(name=names.REAP_STUCK_BUILDS)
def reap_stuck_builds() -> dict:
    """Periodic (beat, BUILD_TIMEOUT_CHECK_INTERVAL): builds and deletes past BUILD_TIMEOUT,
    and builds whose step message was lost (BUILD_STEP_RESEND_AFTER)."""
    return {**recovery.reap_stuck(), **recovery.resend_stalled()}


@shared_task(name=names.ABORT_BUILD)
def abort_build(instance_uuid: str, host: str) -> bool:
    """On the host of a reaped build: give back what it held there."""
    return recovery.abort_build(instance_uuid, host)


@shared_task(name=names.PREP_RESIZE)
def prep_resize(instance_uuid: str, request_id: str):
    """A resize's destination chosen and claimed (queue `scheduler`)."""
    return resize.prep_resize(instance_uuid, request_id)


def _resize_step(step):
    def run(instance_uuid: str, request_id: str):
        return resize_host.run_step(step, instance_uuid, request_id)

    run.__name__ = step
    run.__doc__ = f"Resize step `{step}` on the source or destination host."
    return shared_task(name=names.RESIZE_STEP_TASKS[step])(run)


resize_steps = {step: _resize_step(step) for step in names.RESIZE_STEP_TASKS}


@shared_task(name=names.LIVE_MIGRATION_SCHEDULE)
def live_migration_schedule(instance_uuid: str, request_id: str):
    """A live migration's target chosen and claimed (queue `scheduler`)."""
    return live_migration.schedule(instance_uuid, request_id)


def _live_step(step):
    def run(instance_uuid: str, request_id: str):
        return live_migration_host.run_step(step, instance_uuid, request_id)

    run.__name__ = f"live_migration_{step}"
    run.__doc__ = f"Live migration step `{step}` on the source or target host."
    return shared_task(name=names.LIVE_MIGRATION_STEP_TASKS[step])(run)


live_migration_steps = {step: _live_step(step) for step in names.LIVE_MIGRATION_STEP_TASKS}


@shared_task(name=names.CONFIRM_EXPIRED_RESIZES)
def confirm_expired_resizes() -> int:
    """Periodic (beat): VERIFY_RESIZE past RESIZE_CONFIRM_WINDOW is confirmed."""
    return resize.confirm_expired()


@shared_task(name=names.EVACUATE_SCHEDULE)
def evacuate_schedule(instance_uuid: str, request_id: str):
    """A new host for a server whose host is down, chosen and claimed (queue `scheduler`)."""
    return evacuate.evacuate_schedule(instance_uuid, request_id)


@shared_task(name=names.EVACUATE_SPAWN)
def evacuate_spawn(instance_uuid: str, request_id: str):
    """The evacuated server rebuilt from its image on this host."""
    return evacuate_host.evacuate_spawn(instance_uuid, request_id)


@shared_task(name=names.UNSHELVE_SCHEDULE)
def unshelve_schedule(instance_uuid: str, request_id: str):
    """An offloaded server's new host chosen and claimed (queue `scheduler`)."""
    return shelve.unshelve_schedule(instance_uuid, request_id)


@shared_task(name=names.UNSHELVE_SPAWN)
def unshelve_spawn(instance_uuid: str, request_id: str):
    """An offloaded server's disk made from its shelved image and started on this host."""
    return shelve_host.unshelve_spawn(instance_uuid, request_id)
