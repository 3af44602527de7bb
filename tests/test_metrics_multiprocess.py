"""/metrics under gunicorn's prefork workers (as `make run` starts the API): requests served
by different worker processes all count, a worker that dies keeps its counts, and a new
master starts from zero (the multiprocess directory is emptied at start)."""
import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from django.urls import resolve
from prometheus_client.parser import text_string_to_metric_families

from cloudproj.celery import app
from cloudproj.testing.cloud import Cloud
from cloudproj.testing.real_guest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PATH = "/compute/v2.1/"


@pytest.fixture
def cloud(tmp_path):
    cloud = Cloud(tmp_path, str(app.conf.broker_url or ""))
    yield cloud
    cloud.stop()


def served_count(base: str) -> float:
    """cloudproj_api_request_duration_seconds_count of GET PATH (2xx), summed over workers."""
    route = resolve(PATH).view_name
    body = urllib.request.urlopen(f"{base}/metrics", timeout=30).read().decode()
    total = 0.0
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if (sample.name == "cloudproj_api_request_duration_seconds_count" and sample.labels.get("route") == route
                    and sample.labels.get("method") == "GET"):
                total += sample.value
    return total


def worker_pids(master: int) -> set[int]:
    return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def pids_with_samples(directory: Path) -> set[int]:
    return {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob("histogram_*.db")}


def get(base: str) -> None:
    with urllib.request.urlopen(base + PATH, timeout=30) as response:  # a new connection each time
        assert response.status == 200


def test_requests_served_by_every_worker_count_and_survive_a_dead_worker(cloud, tmp_path):
    directory = tmp_path / "prometheus"
    port = free_port()
    base = cloud.start_api(port, workers=2, PROMETHEUS_MULTIPROC_DIR=directory)
    master = cloud.procs["api"][0].pid
    sent = 0
    deadline = time.monotonic() + 120
    while len(pids_with_samples(directory) & worker_pids(master)) < 2 or sent < 20:
        assert time.monotonic() < deadline, f"requests never reached both workers: {os.listdir(directory)}"
        get(base)
        sent += 1
    assert served_count(base) == sent

    victim = sorted(pids_with_samples(directory) & worker_pids(master))[0]
    os.kill(victim, signal.SIGKILL)
    cloud.wait(lambda: victim not in worker_pids(master) and len(worker_pids(master)) == 2, 60,
               "gunicorn to replace the killed worker")
    for _ in range(5):
        get(base)
    assert served_count(base) == sent + 5  # the dead worker's requests still count

    cloud.kill("api", signal.SIGTERM)
    base = cloud.start_api(port, workers=2, PROMETHEUS_MULTIPROC_DIR=directory)
    get(base)
    assert served_count(base) == 1  # a new master starts from an emptied directory
