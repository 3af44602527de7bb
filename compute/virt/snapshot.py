"""A standalone copy of an instance's disk (the overlay flattened onto its base).

A running guest is paused for the copy, so that it cannot write while qemu-img reads, and
the overlay is read with `qemu-img convert -U` (QEMU holds its lock). What the guest
flushed (sync) is in the file then: QEMU writes guest flushes, qcow2 metadata included, to
the overlay before it completes them. Data the guest never synced may be missing, as after
a power cut. A paused, suspended or stopped guest is copied as it is.
"""
import logging
from pathlib import Path

from images.drivers import qemu_img

from . import power_state as ps

log = logging.getLogger(__name__)


def snapshot_disk(driver, instance_uuid: str, disk: Path, dest: Path, out_format: str = "qcow2") -> Path:
    paused_here = False
    if driver.get_power_state(instance_uuid) == ps.RUNNING:
        driver.pause(instance_uuid)
        paused_here = True
    try:
        qemu_img.convert(disk, dest, out_format, in_format="qcow2", force_share=True)
    finally:
        if paused_here:
            try:
                driver.unpause(instance_uuid)
            except Exception:  # the copy's outcome matters more; power sync sees it
                log.exception("could not unpause instance %s after its snapshot", instance_uuid)
    return dest
