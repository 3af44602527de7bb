"""`./manage.py health` as Nagios runs it: one line `STATUS - ... | perfdata`, exit 0/1/2/3."""
import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.core.management import call_command
from django.utils import timezone

from cloudproj.observability import queues
from compute.models import Service

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
HEALTH_BROKER = "redis://127.0.0.1:6379/8"  # a database of the CI's Redis that only this file uses


@pytest.fixture(autouse=True)
def paths(settings, tmp_path, monkeypatch):
    settings.STATE_PATH = tmp_path
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.NETWORKS_PATH = tmp_path / "networks"
    settings.SERVICE_DOWN_TIME = 60
    # the queue check reads a real Redis of its own, empty unless a test fills it
    monkeypatch.setattr(queues, "broker_url", lambda: HEALTH_BROKER)
    client = redis.Redis.from_url(HEALTH_BROKER)
    client.flushdb()
    yield
    client.flushdb()
    client.close()


def service(host, binary, age_seconds=1, **fields):
    return Service.objects.create(
        host=host, binary=binary, topic=binary.split("-")[-1],
        last_seen_up=timezone.now() - timedelta(seconds=age_seconds), **fields,
    )


def health(*args) -> tuple[int, str]:
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("health", "--disk-warning", "0", "--disk-critical", "0", *args, stdout=out)
    return exit_info.value.code, out.getvalue().strip()


@pytest.fixture
def all_up():
    service("obs-h1", "nova-compute")
    service("obs-h1", "nova-network")
    service("obs-h1", "nova-volume")
    service("obs-sched", "nova-scheduler")


def test_all_up_is_ok(all_up):
    code, line = health()
    assert code == 0, line
    assert line.startswith("OK - 4 services up")
    assert "services_up=4;;;0;4" in line.split("|", 1)[1]


def test_a_service_with_an_old_heartbeat_is_critical_and_named(all_up):
    service("obs-h2", "nova-compute", age_seconds=600)
    code, line = health()
    assert code == 2, line
    assert line.startswith("CRITICAL - 1 of 5 services down: nova-compute@obs-h2")
    assert "services_down=1" in line


def test_a_disabled_service_does_not_count(all_up):
    service("obs-h3", "nova-compute", age_seconds=600, disabled=True)
    assert health()[0] == 0


def test_little_free_disk_is_a_warning(all_up, tmp_path):
    code, line = health("--disk-warning", "100")  # less than 100 % free: always true
    assert code == 1, line
    assert line.startswith(f"WARNING - {tmp_path} ")
    assert "state_free_percent=" in line


def test_a_large_console_log_is_a_warning(all_up, settings):
    log = settings.INSTANCES_PATH / "instance-0000002a" / "console.log"
    log.parent.mkdir(parents=True)
    log.write_bytes(b"x" * 2 * 2**20)
    code, line = health("--console-warning", "1")
    assert code == 1, line
    assert "console log of instance-0000002a is 2 MiB" in line
    assert f"console_log_max={2 * 2**20}B;{2**20};" in line


def test_deep_queue_and_unreachable_broker(all_up, monkeypatch):
    client = redis.Redis.from_url(HEALTH_BROKER)
    client.rpush("scheduler", *[b"{}"] * 5)
    client.rpush("compute.obs-h1", *[b"{}"] * 12)
    client.close()
    code, line = health("--queue-warning", "10", "--queue-critical", "50")
    assert code == 1 and "queue compute.obs-h1 holds 12 messages" in line, line

    monkeypatch.setattr(queues, "broker_url", lambda: "redis://127.0.0.1:1/0")  # nothing listens there
    code, line = health()
    assert code == 2 and "broker unreachable" in line, line


def test_unknown_when_the_database_cannot_be_reached(tmp_path):
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing", "STATE_PATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "manage.py", "health"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert proc.stdout.startswith("UNKNOWN - database unreachable")
