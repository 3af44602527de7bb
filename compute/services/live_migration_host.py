"""What the hosts do for a live migration (compute.<host> `live_migration_*` messages; the
flow is live_migration.py's):

    prepare(uuid, request_id)    target: the image cached, an empty overlay of the same size
                                 on it (QEMU mirrors the source's overlay into it), the
                                 addresses made live here (bridge, DHCP entry, security-group
                                 chains: before the guest arrives); what the source needs
                                 recorded (this host's libvirt URI, migration address, folders)
    migrate(uuid, request_id)    source: libvirt's live block migration to the target while an
                                 admin's abort or force-complete is honoured and the progress
                                 recorded; then this host lets go (files, DHCP entry, chains),
                                 the instance is the target's, the claim moves -> completed
    rollback(uuid, request_id)   target, after a failure or an abort: its domain (if libvirt
                                 left one), files and host state go, the addresses point at the
                                 source again -> error (cancelled), the guest runs on the source

    recover_host(host)           agent start: a live migration whose source agent died in the
                                 middle: the guest running here (libvirt cancels a migration
                                 whose client went away) -> rolled back on the target; gone
                                 from here -> completed as if the agent had seen it finish
"""
import logging

from django.conf import settings
from django.db import transaction

from cloudproj import rpc
from cloudproj.host.identity import current_host
from cloudproj.host.locks import instance_lock

from .. import states
from ..models import Instance, InstanceActionEvent, InstanceResize
from ..scheduler import resize_claims
from ..virt.driver import DriverError, MigrationAborted
from . import host_resources as hr
from . import live_migration as lm
from .actions import event, event_finish, finish_action, get_action, record_fault
from .instances import update_state

log = logging.getLogger(__name__)

T = states.task
R = InstanceResize


def _step(instance_uuid, request_id: str, name: str, host_of):
    instance, record = lm.load(instance_uuid)
    if instance is None or record is None or instance.task_state != T.MIGRATING or record.status != R.MIGRATING:
        log.info("live migration step %s of %s skipped: no live migration in flight", name, instance_uuid)
        return None
    if host_of(record) != current_host():
        log.warning("live migration step %s of %s reached %s, not %s: ignored", name, instance_uuid,
                    current_host(), host_of(record))
        return None
    return instance, record, get_action(instance, request_id)


def prepare(instance_uuid, request_id: str) -> bool:
    """On the target, before the guest comes: disk, network and security groups ready."""
    with instance_lock(instance_uuid):
        found = _step(instance_uuid, request_id, "prepare", lambda r: r.dest_host)
        if found is None:
            return False
        instance, record, action = found
        if lm.cancelled_before_start(instance, record):
            return _rollback(instance, record, action, None)
        try:
            with event(action, "compute_pre_live_migration", host=record.dest_host):
                if hr.driver().instance_exists(str(instance.uuid)):
                    raise DriverError(f"instance {instance.uuid} has a domain on {record.dest_host} already")
                paths = hr.prepare_disk(instance, replace=True)
                hr.allocate_network(instance, record.dest_host)
        except Exception as exc:  # noqa: BLE001 - rolled back here, the guest never left
            log.warning("live migration of %s: the target %s could not prepare: %s", instance.uuid,
                        record.dest_host, exc)
            return _rollback(instance, record, action, exc)
        record.live = {
            "uri": settings.LIVE_MIGRATION_URI or settings.LIBVIRT_URI,
            "address": settings.LIVE_MIGRATION_ADDRESS,
            "instances": str(settings.INSTANCES_PATH), "cache": str(settings.IMAGE_CACHE_PATH),
            "disk": paths.get("disk"),
        }
        record.save(update_fields=["live", "updated_at"])
        rpc.live_migration_step(record.source_host, "migrate", str(instance.uuid), request_id)
        return True


def migrate(instance_uuid, request_id: str) -> bool:
    """On the source: the live migration itself, then this host lets go."""
    with instance_lock(instance_uuid):
        found = _step(instance_uuid, request_id, "migrate", lambda r: r.source_host)
        if found is None:
            return False
        instance, record, action = found
        if lm.cancelled_before_start(instance, record):
            return _to_target_rollback(instance, record, None)
        lm.set_migration(record, lm.RUNNING)
        live = record.live
        # the source's folders -> the target's; the source's own paths are this process's settings
        prefixes = {str(settings.INSTANCES_PATH): live["instances"], str(settings.IMAGE_CACHE_PATH): live["cache"]}
        address = live.get("address")
        try:
            with event(action, "compute_live_migration", host=record.source_host):
                hr.driver().live_migrate(
                    str(instance.uuid), live["uri"], prefixes, record.dest_host,
                    migrate_uri=f"tcp://{address}" if address else None, block=True,
                    watch=lambda stats: lm.set_progress(instance, record, stats))
        except MigrationAborted as exc:
            log.info("live migration of %s aborted: %s", instance.uuid, exc)
            return _to_target_rollback(instance, record, None)
        except Exception as exc:  # noqa: BLE001 - libvirt keeps the guest here; the target cleans up
            log.warning("live migration of %s to %s failed: %s", instance.uuid, record.dest_host, exc)
            return _to_target_rollback(instance, record, exc)
        _completed(instance, record, action)
        return True


def _completed(instance: Instance, record: InstanceResize, action) -> None:
    """The guest runs on the target: the instance is the target's, this host lets go."""
    with event(action, "compute_post_live_migration", host=record.source_host):
        with transaction.atomic():
            update_state(instance, expected_task_state=T.MIGRATING, host=record.dest_host, node=record.dest_node)
        hr.left_host(instance, record.source_host)
        hr.remove_files(instance)
    resize_claims.confirm(record)
    with transaction.atomic():
        update_state(instance, expected_task_state=T.MIGRATING, task_state=None, progress=100)
        lm.set_migration(record, lm.COMPLETED)
        record.delete()
        if action is not None:
            finish_action(action)
    log.info("instance %s live migrated %s -> %s", instance.uuid, record.source_host, record.dest_host)


def _to_target_rollback(instance: Instance, record: InstanceResize, exc) -> bool:
    """The guest stays here: the target undoes its preparation and settles the instance."""
    with transaction.atomic():
        if exc is not None:
            record_fault(instance, exc, host=record.source_host)
        InstanceResize.objects.filter(pk=record.pk).update(live_request="abort" if exc is None else "error")
        rpc.live_migration_step(record.dest_host, "rollback", str(instance.uuid), record.request_id)
    return False


def rollback(instance_uuid, request_id: str) -> bool:
    """On the target after a failed or aborted migration."""
    with instance_lock(instance_uuid):
        found = _step(instance_uuid, request_id, "rollback", lambda r: r.dest_host)
        if found is None:
            return False
        instance, record, action = found
        return _rollback(instance, record, action, None, failed=record.live_request == "error")


def _rollback(instance: Instance, record: InstanceResize, action, exc, failed: bool = False) -> bool:
    """This target lets go of everything it prepared; the instance settles on its source
    (`exc`: this host's failure, its fault recorded; `failed`: the source recorded it)."""
    with event(action, "compute_rollback_live_migration_at_destination", host=record.dest_host):
        if hr.driver().domain_owner(str(instance.uuid)) == record.dest_host:
            hr.driver().destroy(str(instance.uuid))
        hr.remove_files(instance)
        hr.move_addresses(instance, record.source_host)
        hr.left_host(instance, record.dest_host)
    status = lm.ERROR if exc is not None or failed else lm.CANCELLED
    lm.finish(instance, record, action, exc, status=status, failed=failed)
    log.info("live migration of %s rolled back on %s (%s)", instance.uuid, record.dest_host, status)
    return False


class LiveMigrationInterrupted(Exception):
    """The source's agent stopped in the middle of a live migration."""


def recover_host(host: str) -> dict:
    """Host hook at agent start: the live migrations this host was the source of when its
    agent died (their compute_live_migration event still open) are settled by where the guest
    is now."""
    counts = {"rolled_back": 0, "completed": 0}
    records = InstanceResize.objects.filter(kind=R.LIVE, source_host=host, status=R.MIGRATING,
                                            instance__deleted_at__isnull=True).select_related("instance")
    for record in records:
        instance = record.instance
        running = list(InstanceActionEvent.objects.filter(action__instance=instance, host=host, finish_time__isnull=True,
                                                          event="compute_live_migration"))
        if not running or instance.task_state != T.MIGRATING:
            continue
        exc = LiveMigrationInterrupted(f"The agent of {host} stopped during the live migration of {instance.uuid}.")
        for evt in running:
            event_finish(evt, exc)
        with instance_lock(instance.uuid):
            if hr.driver().domain_owner(str(instance.uuid)) == host:  # still here: it never moved
                _to_target_rollback(instance, record, exc)
                counts["rolled_back"] += 1
            else:
                _completed(instance, record, running[0].action)
                counts["completed"] += 1
    if any(counts.values()):
        log.warning("agent %s settled its live migrations in flight: %s", host, counts)
    return counts


STEPS = {"prepare": prepare, "migrate": migrate, "rollback": rollback}


def run_step(step: str, instance_uuid, request_id: str) -> bool:
    if step not in STEPS:
        raise ValueError(f"unknown live migration step {step!r}")
    return STEPS[step](instance_uuid, request_id)
