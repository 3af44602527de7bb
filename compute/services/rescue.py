"""Rescue and unrescue (Nova's): the server boots from a rescue image with its own disk
attached second (/dev/vdb), so a user can repair it; unrescue boots its own disk again.

    rescue_server(ctx, instance, image=None) -> None    RESCUE (task rescuing); the host runs
                                                        `rescue_on_host` (lifecycle.run_action)
    unrescue_server(ctx, instance)                      back to ACTIVE (task unrescuing)

The rescue disk is a fresh qcow2 overlay on the rescue image (the server's own image unless
another is asked for) in the instance directory (`disk.rescue`); unrescue and delete remove
it. A rescue that fails on the host puts the server's own domain back and answers with a
fault; nothing of the rescue is left.
"""
import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction

from cloudproj import rpc
from cloudproj.exceptions import Conflict
from images.drivers import cache as image_cache

from .. import states
from ..models import Instance
from ..virt import power_state as ps
from . import host_resources as hr
from .instances import begin, validate_image

log = logging.getLogger(__name__)

T = states.task
RESCUE_DISK = "disk.rescue"


def _request_id(ctx) -> str:
    return getattr(ctx, "request_id", None) or "-"


def rescue_server(ctx, instance: Instance, image: dict | None = None) -> None:
    """409 unless ACTIVE, SHUTOFF or ERROR with no task; `image` (a mapping as find_image
    gives) is the rescue image, else the server's own."""
    states.check_allowed(instance, "rescue", is_admin=getattr(ctx, "is_admin", False))
    if not instance.host:
        raise Conflict(f"Cannot 'rescue' instance {instance.uuid} while it has no host.")
    if image is not None:
        info = validate_image(image, instance)
    else:
        info = {"id": instance.image_ref, "kernel_id": instance.kernel_id, "ramdisk_id": instance.ramdisk_id,
                "properties": dict(instance.image_properties or {})}
    params = {"image_id": info["id"], "kernel_id": info["kernel_id"], "ramdisk_id": info["ramdisk_id"],
              "cmdline": (info["properties"] or {}).get("os_command_line"), "was": instance.vm_state}
    with transaction.atomic():
        begin(instance, "rescue", ctx, task_state=T.RESCUING)
        rpc.instance_action(instance.host, str(instance.uuid), _request_id(ctx), "rescue", params)


def unrescue_server(ctx, instance: Instance) -> None:
    states.check_allowed(instance, "unrescue", is_admin=getattr(ctx, "is_admin", False))
    with transaction.atomic():
        begin(instance, "unrescue", ctx, task_state=T.UNRESCUING)
        rpc.instance_action(instance.host, str(instance.uuid), _request_id(ctx), "unrescue", {})


# --- on the host (lifecycle.run_action calls these under the instance's lock) ------------------


def rescue_disk_path(instance: Instance) -> Path:
    return hr.instance_dir(instance) / RESCUE_DISK


def rescue_spec(instance: Instance, params: dict):
    """The server's spec with the rescue disk as vda, its own disk as vdb and the rescue
    image's kernel and ramdisk."""
    spec = hr.build_spec(instance)
    kernel = hr.cached_if(params.get("kernel_id") or "")
    spec.kernel_path = kernel
    spec.initrd_path = hr.cached_if(params.get("ramdisk_id") or "") if kernel else None
    spec.cmdline = (params.get("cmdline") or None) if kernel else None
    if kernel and spec.cmdline is None:
        spec.cmdline = hr.DEFAULT_KERNEL_CMDLINE
    own = {"kind": "file", "path": spec.disk_path, "format": spec.disk_format, "target": "vdb",
           "serial": str(instance.uuid)}
    spec.disk_path = str(rescue_disk_path(instance))
    spec.disk_format = "qcow2"
    spec.volumes = [own]  # attached volumes stay detached from the rescue domain
    spec.validate()
    return spec


def rescue_on_host(instance: Instance, params: dict) -> dict:
    drv = hr.driver()
    uuid = str(instance.uuid)
    image = hr._image(params.get("image_id") or "", "Rescue image")
    base = hr._cached(image.id, "Rescue image")
    disk = rescue_disk_path(instance)
    if drv.get_power_state(uuid) not in (ps.SHUTDOWN, ps.NOSTATE):
        drv.power_off(uuid, timeout=settings.SHUTDOWN_TIMEOUT)
    try:
        disk.unlink(missing_ok=True)
        image_cache.create_overlay(base, disk, backing_format=image_cache.backing_format(image))
        spec = rescue_spec(instance, params)
        drv.destroy(uuid)
        power = drv.spawn(spec, timeout=settings.SPAWN_TIMEOUT)
    except Exception:
        log.warning("rescue of %s failed: its own domain is put back", uuid)
        _own_domain_back(instance, start=params.get("was") == states.ACTIVE)
        raise
    return {"vm_state": states.RESCUED, "power_state": power}


def _own_domain_back(instance: Instance, start: bool) -> int:
    drv = hr.driver()
    drv.destroy(str(instance.uuid))
    rescue_disk_path(instance).unlink(missing_ok=True)
    spec = hr.build_spec(instance)
    if start:
        return drv.spawn(spec, timeout=settings.SPAWN_TIMEOUT)
    return ps.SHUTDOWN


def unrescue_on_host(instance: Instance, params: dict) -> dict:
    power = _own_domain_back(instance, start=True)
    return {"vm_state": states.ACTIVE, "power_state": power}
