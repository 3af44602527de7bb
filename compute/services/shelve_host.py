"""What the hosts do for shelve, shelve-offload and unshelve (lifecycle.run_action calls the
*_on_host functions under the instance's lock; compute.unshelve_spawn runs unshelve_spawn on the
chosen host); the requests, the scheduling and the flow are shelve.py's.
"""
import logging

from django.conf import settings
from django.utils import timezone

from cloudproj.host.locks import instance_lock
from images.drivers import cache as image_cache
from images.models import Image
from images.services import registry as image_service

from .. import states
from ..models import Instance
from ..scheduler import claims
from ..virt import power_state as ps
from ..virt.snapshot import snapshot_disk
from . import host_resources as hr
from .actions import event, finish_action, get_action
from .fault_injection import pause_point
from .instances import update_state
from .snapshots import SNAPSHOT_DISK_FORMAT
from .shelve import T, _back_to_offloaded, _delete_shelved_images, shelved_image

log = logging.getLogger(__name__)

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
