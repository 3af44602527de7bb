"""What the host does for rescue and unrescue (lifecycle.run_action calls these under the
instance's lock); the requests and the flow are rescue.py's.
"""
import logging
from pathlib import Path

from django.conf import settings

from images.drivers import cache as image_cache

from .. import states
from ..models import Instance
from ..virt import power_state as ps
from . import host_resources as hr
from .rescue import RESCUE_DISK

log = logging.getLogger(__name__)

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
