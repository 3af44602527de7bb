"""TEST-ONLY: hold a worker at a named point of the pipeline so that a fault test can kill
it there (kill -9 during a given step, deterministically).

With FAULT_INJECT_PAUSE naming the point (schedule, allocate_ip, fetch_image, spawn,
terminate), the worker writes `<FAULT_INJECT_DIR>/<point>-<instance uuid>` and sleeps until
it is killed. Off by default (empty FAULT_INJECT_PAUSE); it does nothing else.
"""
import time
from pathlib import Path

from django.conf import settings


def pause_point(point: str, instance_uuid) -> None:
    if point not in (settings.FAULT_INJECT_PAUSE or ()) or not settings.FAULT_INJECT_DIR:
        return
    Path(settings.FAULT_INJECT_DIR, f"{point}-{instance_uuid}").write_text(point)
    while True:
        time.sleep(3600)
