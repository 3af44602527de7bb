"""What the hosts do for an evacuation (see evacuate.py): the target rebuilds the server from
its image; the source, when its agent comes back, removes what it still holds of the servers
evacuated away from it (Nova's _destroy_evacuated_instances).

    evacuate_spawn(uuid, request_id)   target: addresses re-pointed here, a new overlay on the
                                       image, the domain started (a stopped server stays
                                       stopped) -> ACTIVE, the Migration row "done"
    destroy_evacuated(host)            host hook agent_start: for each "done" evacuation away
                                       from this host, the domain this host's metadata names,
                                       the instance folder and the host's chains go; the row
                                       "completed"
"""
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudproj.host.identity import current_host
from cloudproj.host.locks import instance_lock

from .. import states
from ..models import Instance, InstanceActionEvent, Migration
from ..virt import power_state as ps
from . import host_resources as hr
from .actions import event, event_finish, finish_action, get_action
from .evacuate import EVACUATION, T, current_evacuation, fail
from .fault_injection import pause_point
from .instances import UnexpectedTaskState, update_state

log = logging.getLogger(__name__)


def evacuate_spawn(instance_uuid, request_id: str) -> bool:
    with instance_lock(instance_uuid):
        instance = Instance.objects.filter(uuid=instance_uuid).first()
        migration = current_evacuation(instance, "pre-migrating") if instance is not None else None
        if instance is None or migration is None or instance.task_state != T.REBUILDING:
            log.info("evacuate_spawn of %s skipped: no evacuation waiting", instance_uuid)
            return False
        host = current_host()
        if migration.dest_compute != host or instance.host != host:
            log.warning("evacuate_spawn of %s reached %s, not %s: ignored", instance_uuid, host, migration.dest_compute)
            return False
        action = get_action(instance, request_id, "evacuate")
        try:
            with event(action, "compute_rebuild_instance", host=host):
                hr.allocate_network(instance, host)  # the same addresses, served for this host now
                hr.prepare_disk(instance, replace=True)
                if instance.vm_state == states.STOPPED:
                    power = ps.SHUTDOWN  # `start` defines its domain
                else:
                    power = hr.driver().spawn(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)
                pause_point("evacuate", instance.uuid)
        except Exception as exc:  # noqa: BLE001 - ERROR on the source, nothing left here
            log.warning("evacuation of %s to %s failed: %s", instance.uuid, host, exc)
            _clean_target(instance, migration)
            fail(instance, migration, action, exc, target=host)
            return False
        vm_state = states.STOPPED if instance.vm_state == states.STOPPED else states.ACTIVE
        try:
            with transaction.atomic():
                update_state(instance, expected_task_state=T.REBUILDING, vm_state=vm_state, task_state=None,
                             power_state=power, launched_at=timezone.now())
                Migration.objects.filter(pk=migration.pk).update(status="done", updated_at=timezone.now())
                if action is not None:
                    finish_action(action)
        except UnexpectedTaskState:  # deleted meanwhile: the delete cleans up here
            return False
        log.info("instance %s evacuated from %s to %s", instance.uuid, migration.source_compute, host)
        return True


def _clean_target(instance: Instance, migration: Migration) -> None:
    try:
        hr.driver().destroy(str(instance.uuid))
        hr.remove_files(instance)
        hr.move_addresses(instance, migration.source_compute)
        hr.left_host(instance, current_host())
    except Exception:  # reported; the fault names the first error
        log.exception("cleanup of the failed evacuation of %s incomplete", instance.uuid)


def destroy_evacuated(host: str) -> int:
    """Host hook agent_start: this host's leftovers of the servers evacuated away from it."""
    done = 0
    for migration in Migration.objects.filter(migration_type=EVACUATION, status="done", source_compute=host):
        instance = Instance.all_objects.filter(uuid=migration.instance_uuid).first()
        with instance_lock(migration.instance_uuid):
            if instance is not None and instance.host != host:
                drv = hr.driver()
                if drv.domain_owner(str(instance.uuid)) == host:  # never the new host's domain
                    drv.destroy(str(instance.uuid))
                hr.remove_files(instance)
                if instance.deleted_at is None:
                    hr.left_host(instance, host)
            Migration.objects.filter(pk=migration.pk).update(status="completed", updated_at=timezone.now())
            done += 1
    if done:
        log.warning("agent %s removed what it held of %d server(s) evacuated while it was down", host, done)
    return done


def recover_host(host: str) -> int:
    """Agent start: an evacuation this host was rebuilding when its agent died is failed
    (ERROR on the source with a fault, nothing left here); one not started yet is left to its
    message, which comes back (late ack)."""
    settled = 0
    for migration in Migration.objects.filter(migration_type=EVACUATION, status="pre-migrating", dest_compute=host):
        instance = Instance.objects.filter(uuid=migration.instance_uuid).first()
        if instance is None:
            continue
        with instance_lock(instance.uuid):
            instance.refresh_from_db()
            running = list(InstanceActionEvent.objects.filter(
                action__instance=instance, event="compute_rebuild_instance", host=host, finish_time__isnull=True))
            if instance.task_state != T.REBUILDING or not running:
                continue
            exc = EvacuationInterrupted(f"The agent of {host} stopped during the evacuation of instance "
                                        f"{instance.uuid}.")
            for evt in running:
                event_finish(evt, exc)
            _clean_target(instance, migration)
            fail(instance, migration, running[0].action, exc, target=host)
            settled += 1
    return settled


class EvacuationInterrupted(Exception):
    """The target's agent stopped in the middle of an evacuation."""
