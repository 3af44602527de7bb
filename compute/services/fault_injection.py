"""TEST-ONLY: hold a worker at a named point of the pipeline so that a fault test can kill
it there (kill -9 during a given step, deterministically), or hold the worker busy and let
it go on later.

With FAULT_INJECT_PAUSE naming the point (schedule, allocate_ip, fetch_image, spawn,
terminate, or an action: reboot, stop, start, pause, unpause, suspend, resume, rebuild), the
worker writes `<FAULT_INJECT_DIR>/<point>-<instance uuid>` and sleeps until
it is killed or the test removes that file. Off by default (empty FAULT_INJECT_PAUSE); it
does nothing else.
"""
import time
from pathlib import Path

from django.conf import settings


def pause_point(point: str, instance_uuid) -> None:
    if point not in (settings.FAULT_INJECT_PAUSE or ()) or not settings.FAULT_INJECT_DIR:
        return
    marker = Path(settings.FAULT_INJECT_DIR, f"{point}-{instance_uuid}")
    marker.write_text(point)
    while marker.exists():
        time.sleep(0.2)
