"""Evacuate (Nova's): an admin rebuilds the guests of a host whose compute service is down
(or forced down) on another host, from their image (no storage is shared between hosts here:
the disk on the dead host is lost, the server keeps its id, name, addresses and flavor).
The host side is evacuate_host.py.

    evacuate_server(ctx, instance, host=None)   API: 400 while the source's service is up
                                                (Nova's ComputeServiceInUse), for an unknown
                                                host or the source itself;
                                                task_state rebuilding, a Migration row
                                                (migration_type "evacuation", accepted)
    evacuate_host(ctx, host, target=None)       every server of a down host (the operator's
                                                `./manage.py host evacuate`, Nova's
                                                host-evacuate): [(instance, migration or the
                                                reason it was refused)]
    evacuate_schedule(uuid, request_id)         scheduler: the source's claim given back, a
                                                host chosen (the named one through the filters)
                                                and claimed, then compute.<host>
A failure leaves the server in ERROR on its (down) source with a fault and no claim, file,
domain or address on the target; the Migration row "failed".
"""
import logging

from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import CloudError, Invalid, NotFound
from cloudproj.host.locks import instance_lock

from .. import states
from ..models import Instance, Migration, Service
from ..scheduler import NoValidHost, RequestSpec, claims
from .actions import event, finish_action, get_action, record_fault
from .instances import UnexpectedTaskState, begin, update_state
from .resize import check_move

log = logging.getLogger(__name__)

T = states.task
EVACUATION = "evacuation"


def _request_id(ctx) -> str:
    return getattr(ctx, "request_id", None) or "-"


def source_is_down(host: str) -> bool:
    service = Service.objects.filter(host=host, binary="nova-compute").first()
    return service is None or not service.is_up


def evacuate_server(ctx, instance: Instance, host: str | None = None) -> Migration:
    check_move(ctx, instance, "evacuate", host)
    if not source_is_down(instance.host):
        raise Invalid(f"Compute service of {instance.host} is still in use.")
    with transaction.atomic():
        begin(instance, "evacuate", ctx, task_state=T.REBUILDING)
        migration = Migration.objects.create(
            instance_uuid=instance.uuid, source_compute=instance.host, source_node=instance.node,
            dest_compute=host, old_instance_type_id=instance.flavor_id, new_instance_type_id=instance.flavor_id,
            status="accepted", migration_type=EVACUATION, updated_at=timezone.now(),
        )
        rpc.evacuate_schedule(str(instance.uuid), _request_id(ctx))
    log.info("evacuation of instance %s from %s requested (target %s)", instance.uuid, instance.host,
             host or "the scheduler's choice")
    return migration


def evacuate_host(ctx, host: str, target: str | None = None) -> list[tuple[Instance, Migration | str]]:
    """Evacuate every server of `host` (404 unknown, 400 while its compute service is up): one
    refusal (a server in a state that does not allow it) does not stop the others."""
    if not Service.objects.filter(host=host, binary="nova-compute").exists():
        raise NotFound(f"Compute host {host} could not be found.")
    if not source_is_down(host):
        raise Invalid(f"Compute service of {host} is still in use.")
    results: list[tuple[Instance, Migration | str]] = []
    for instance in Instance.objects.filter(host=host).order_by("created_at", "id"):
        try:
            results.append((instance, evacuate_server(ctx, instance, target)))
        except CloudError as exc:
            results.append((instance, exc.message))
    return results


def current_evacuation(instance: Instance, status: str) -> Migration | None:
    return (Migration.objects.filter(instance_uuid=instance.uuid, migration_type=EVACUATION, status=status)
            .order_by("-id").first())


def evacuate_schedule(instance_uuid, request_id: str) -> str | None:
    with instance_lock(f"evacuate-{instance_uuid}"):
        instance = Instance.objects.filter(uuid=instance_uuid).first()
        migration = current_evacuation(instance, "accepted") if instance is not None else None
        if instance is None or migration is None or instance.task_state != T.REBUILDING:
            return None
        action = get_action(instance, request_id, "evacuate")
        spec = RequestSpec.from_instance(instance)
        spec.retry = {"hosts": [migration.source_compute]}
        if migration.dest_compute:
            spec.force_hosts = [migration.dest_compute]
        claims.release(migration.source_compute, instance)
        try:
            with event(action, "compute_evacuate_schedule"):
                claim = claims.schedule_and_claim(spec)
        except (NoValidHost, claims.ClaimFailed) as exc:
            fail(instance, migration, action, exc, target=None)
            return None
        instance.refresh_from_db()
        Migration.objects.filter(pk=migration.pk).update(
            status="pre-migrating", dest_compute=claim.host, dest_node=instance.node, updated_at=timezone.now())
        rpc.evacuate_spawn(claim.host, str(instance.uuid), request_id)
        log.info("evacuation of instance %s: %s -> %s", instance.uuid, migration.source_compute, claim.host)
        return claim.host


def fail(instance: Instance, migration: Migration, action, exc, target: str | None) -> None:
    """The evacuation is over without a new home: ERROR on the source (down), a fault; the
    target's claim given back and the source's taken again (the row stays the source's)."""
    if target:
        claims.release(target, instance)
    try:
        claims.claim(migration.source_compute, instance, node=migration.source_node)
    except claims.ClaimFailed:
        log.warning("instance %s: no claim on its source %s after a failed evacuation", instance.uuid,
                    migration.source_compute)
    try:
        with transaction.atomic():
            update_state(instance, expected_task_state=T.REBUILDING, task_state=None, vm_state=states.ERROR,
                         host=migration.source_compute, node=migration.source_node)
            record_fault(instance, exc, host=target or migration.source_compute)
            Migration.objects.filter(pk=migration.pk).update(status="failed", updated_at=timezone.now())
            if action is not None:
                finish_action(action, "Error")
    except UnexpectedTaskState:
        pass
    log.warning("evacuation of instance %s failed: %s", instance.uuid, getattr(exc, "message", exc))
