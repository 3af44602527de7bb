"""Shelve, shelve-offload and unshelve (Nova's).

    shelve_server(ctx, instance)        the guest powered off, its disk uploaded as a private
                                        snapshot image (`<name>-shelved`, property
                                        shelved_instance=<uuid>): SHELVED; offloaded at once when
                                        SHELVE_OFFLOAD_IMMEDIATELY (Nova's default
                                        shelved_offload_time 0)
    shelve_offload_server(ctx, inst)    SHELVED -> SHELVED_OFFLOADED: domain, files and capacity
                                        claim released, no host; the fixed IPs stay the server's
    unshelve_server(ctx, instance)      SHELVED: started again where it is; SHELVED_OFFLOADED:
                                        scheduled like a boot (any host), its disk made from the
                                        shelved image, started -> ACTIVE, the image deleted

The host work runs through lifecycle.run_action (`shelve_on_host`, `offload_on_host`,
`unshelve_on_host`) under the instance's lock, except an offloaded server's unshelve:
`compute.unshelve_schedule` on `scheduler`, then `compute.unshelve_spawn` on the chosen host.
A failure leaves the server as it was (SHELVED_OFFLOADED with its image for an unshelve that
failed on the host: its claim, files and domain there given back) and a fault.
"""
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import Conflict
from cloudproj.host.locks import instance_lock
from images.drivers import cache as image_cache
from images.models import Image
from images.services import registry as image_service

from .. import states
from ..models import Instance
from ..scheduler import NoValidHost, claims
from ..virt import power_state as ps
from ..virt.snapshot import snapshot_disk
from . import host_resources as hr
from .actions import event, finish_action, get_action, record_fault
from .fault_injection import pause_point
from .instances import UnexpectedTaskState, begin, update_state
from .snapshots import SNAPSHOT_DISK_FORMAT, _inherited

log = logging.getLogger(__name__)

T = states.task
SHELVED_PROPERTY = "shelved_instance"


def _request_id(ctx) -> str:
    return getattr(ctx, "request_id", None) or "-"


def shelved_image(instance: Instance) -> Image | None:
    """The active image of the server's last shelve (None when there is none)."""
    return (Image.objects.filter(**{f"properties__{SHELVED_PROPERTY}": str(instance.uuid)}, status=Image.ACTIVE)
            .order_by("-created_at").first())


# --- API side ----------------------------------------------------------------------------------


def shelve_server(ctx, instance: Instance) -> Image:
    states.check_allowed(instance, "shelve", is_admin=getattr(ctx, "is_admin", False))
    if not instance.host:
        raise Conflict(f"Cannot 'shelve' instance {instance.uuid} while it has no host.")
    properties = {**_inherited(instance), "image_type": "snapshot", "instance_uuid": str(instance.uuid),
                  "base_image_ref": instance.image_ref or "", SHELVED_PROPERTY: str(instance.uuid)}
    with transaction.atomic():
        begin(instance, "shelve", ctx, task_state=T.SHELVING)
        image = image_service.create_image(
            f"{instance.display_name}-shelved"[:255], SNAPSHOT_DISK_FORMAT, "bare", owner=instance.project,
            visibility=Image.PRIVATE, properties=properties, min_disk=instance.root_gb or 0,
        )
        rpc.instance_action(instance.host, str(instance.uuid), _request_id(ctx), "shelve",
                            {"image_id": str(image.id), "was": instance.vm_state})
    return image


def shelve_offload_server(ctx, instance: Instance) -> None:
    states.check_allowed(instance, "shelveOffload", is_admin=getattr(ctx, "is_admin", False))
    with transaction.atomic():
        begin(instance, "shelveOffload", ctx, task_state=T.SHELVING_OFFLOADING)
        rpc.instance_action(instance.host, str(instance.uuid), _request_id(ctx), "shelveOffload", {})


def unshelve_server(ctx, instance: Instance) -> None:
    states.check_allowed(instance, "unshelve", is_admin=getattr(ctx, "is_admin", False))
    if instance.vm_state == states.SHELVED_OFFLOADED and shelved_image(instance) is None:
        raise Conflict(f"Instance {instance.uuid} has no shelved image to unshelve from.")
    with transaction.atomic():
        begin(instance, "unshelve", ctx, task_state=T.UNSHELVING)
        if instance.vm_state == states.SHELVED:
            rpc.instance_action(instance.host, str(instance.uuid), _request_id(ctx), "unshelve", {})
        else:
            rpc.unshelve_schedule(str(instance.uuid), _request_id(ctx))


# --- on the host, through lifecycle.run_action --------------------------------------------------


def shelve_on_host(instance: Instance, params: dict) -> dict:
    """Power off, upload the disk into the shelved image; offload now when
    SHELVED_OFFLOAD_TIME is 0."""
    drv = hr.driver()
    uuid = str(instance.uuid)
    image = Image.all_objects.get(id=params["image_id"])
    if drv.get_power_state(uuid) not in (ps.SHUTDOWN, ps.NOSTATE):
        drv.power_off(uuid, timeout=settings.SHUTDOWN_TIMEOUT)
    copy = hr.instance_dir(instance) / f"shelve-{image.id}.part"
    try:
        copy.unlink(missing_ok=True)
        snapshot_disk(drv, uuid, hr.disk_path(instance), copy, SNAPSHOT_DISK_FORMAT)
        update_state(instance, expected_task_state=T.SHELVING, task_state=T.SHELVING_IMAGE_UPLOADING)
        with open(copy, "rb") as handle:
            image_service.upload(image, handle)
    except Exception:
        Image.all_objects.filter(pk=image.pk, status__in=[Image.QUEUED, Image.SAVING]).update(
            status=Image.KILLED, updated_at=timezone.now())
        update_state(instance, task_state=T.SHELVING)  # run_action settles from there
        if params.get("was") == states.ACTIVE:  # the guest as it was
            drv.power_on(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)
        raise
    finally:
        copy.unlink(missing_ok=True)
    update_state(instance, expected_task_state=T.SHELVING_IMAGE_UPLOADING, task_state=T.SHELVING)
    if settings.SHELVE_OFFLOAD_IMMEDIATELY:
        return _offload(instance)
    return {"vm_state": states.SHELVED, "power_state": drv.get_power_state(uuid)}


def _offload(instance: Instance) -> dict:
    host = instance.host
    hr.cleanup(instance, host, keep_network=True)  # the fixed IPs stay the server's
    claims.release(host, instance)
    return {"vm_state": states.SHELVED_OFFLOADED, "power_state": ps.NOSTATE, "host": None, "node": None}


def offload_on_host(instance: Instance, params: dict) -> dict:
    return _offload(instance)


def unshelve_on_host(instance: Instance, params: dict) -> dict:
    """SHELVED (not offloaded): start it again here; its image is no longer needed."""
    power = hr.driver().power_on(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)
    _delete_shelved_images(instance)
    return {"vm_state": states.ACTIVE, "power_state": power}


def _delete_shelved_images(instance: Instance) -> None:
    for image in Image.objects.filter(**{f"properties__{SHELVED_PROPERTY}": str(instance.uuid)}):
        try:
            image_service.delete_image(image)
        except Exception:  # the server is back; a leftover image is the user's to delete
            log.exception("could not delete the shelved image %s of %s", image.id, instance.uuid)


# --- unshelve of an offloaded server -----------------------------------------------------------


def unshelve_schedule(instance_uuid, request_id: str) -> str | None:
    """On `scheduler`: a host for the offloaded server, its claim, then the host's step."""
    with instance_lock(f"unshelve-{instance_uuid}"):
        instance = Instance.objects.filter(uuid=instance_uuid).first()
        if instance is None or instance.vm_state != states.SHELVED_OFFLOADED or instance.task_state != T.UNSHELVING:
            return None
        action = get_action(instance, request_id, "unshelve")
        if instance.host:  # a scheduler died after its claim: claim again
            claims.release(None, instance, clear_host=True)
        update_state(instance, retry={})
        try:
            with event(action, "schedule"):
                claim = claims.schedule_and_claim(instance)
        except (NoValidHost, claims.ClaimFailed) as exc:
            _back_to_offloaded(instance, action, exc, None)
            return None
        rpc.unshelve_spawn(claim.host, str(instance.uuid), request_id)
        return claim.host


def unshelve_spawn(instance_uuid, request_id: str) -> bool:
    """On the chosen host: address, disk from the shelved image, domain -> ACTIVE."""
    with instance_lock(instance_uuid):
        instance = Instance.objects.filter(uuid=instance_uuid).first()
        if instance is None or instance.vm_state != states.SHELVED_OFFLOADED or instance.task_state != T.UNSHELVING:
            return False
        host = instance.host
        action = get_action(instance, request_id, "unshelve")
        try:
            with event(action, "compute_unshelve_instance", host=host):
                image = shelved_image(instance)
                if image is None:
                    raise hr.ImageUnavailable(f"Instance {instance.uuid} has no shelved image.")
                hr.allocate_network(instance, host)
                _disk_from(instance, image)
                power = hr.driver().spawn(hr.build_spec(instance), timeout=settings.SPAWN_TIMEOUT)
                pause_point("unshelve", instance.uuid)
        except Exception as exc:  # noqa: BLE001 - rolled back, the server stays offloaded
            log.warning("unshelve of %s on %s failed: %s", instance.uuid, host, exc)
            try:
                hr.cleanup(instance, host, keep_network=True)
            except Exception:  # reported with the fault below
                log.exception("cleanup of the failed unshelve of %s incomplete", instance.uuid)
            _back_to_offloaded(instance, action, exc, host)
            return False
        update_state(instance, expected_task_state=T.UNSHELVING, vm_state=states.ACTIVE, task_state=None,
                     power_state=power, launched_at=timezone.now())
        if action is not None:
            finish_action(action)
        _delete_shelved_images(instance)
        return True


def _disk_from(instance: Instance, image: Image) -> None:
    base = image_cache.ensure_cached(image)
    disk = hr.disk_path(instance)
    tmp = disk.with_name(disk.name + ".part")
    tmp.unlink(missing_ok=True)
    image_cache.create_overlay(base, tmp, size_gb=instance.root_gb or None,
                               backing_format=image_cache.backing_format(image))
    tmp.replace(disk)


def _back_to_offloaded(instance: Instance, action, exc, host: str | None) -> None:
    claims.release(host, instance, clear_host=True)
    try:
        with transaction.atomic():
            update_state(instance, expected_task_state=T.UNSHELVING, task_state=None, host=None, node=None)
            record_fault(instance, exc, host=host)
            if action is not None:
                finish_action(action, "Error")
    except UnexpectedTaskState:
        pass


def on_instance_deleted(instance: Instance) -> None:
    """A deleted server's shelved image goes with it (once the delete is committed)."""
    if Image.objects.filter(**{f"properties__{SHELVED_PROPERTY}": str(instance.uuid)}).exists():
        transaction.on_commit(lambda: _delete_shelved_images(instance))
