"""A real agent process: registration, heartbeats, per-host queue routing, going down.

Needs the real Redis broker (CELERY_BROKER_URL) and libvirt's test driver.
"""
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from cloudproj.celery import app
from cloudproj.testing.cloud import database_url, redis_broker_or_skip, remove_host_firewall, wait_for

ROOT = Path(__file__).resolve().parents[2]
HOST = "test-h1"
OTHER = "test-h2-absent"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


_database_url = database_url


def _service_rows() -> dict:
    out = io.StringIO()
    call_command("service", "list", "--host", HOST, stdout=out)
    return {line.split()[0]: line.split() for line in out.getvalue().splitlines()[1:]}


@pytest.fixture
def broker():
    url = redis_broker_or_skip()
    import redis

    client = redis.Redis.from_url(url)
    queues = [f"compute.{HOST}", f"compute.{OTHER}"]
    client.delete(*queues)
    yield url, client
    client.delete(*queues)


@pytest.fixture
def agent_process(broker, settings, tmp_path):
    settings.SERVICE_DOWN_TIME = 4
    url, _client = broker
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": url,
        "CELERY_RESULT_BACKEND": url,
        "LIBVIRT_URI": "test:///default",
        "REPORT_INTERVAL": "1",
        "SERVICE_DOWN_TIME": "4",
        "STATE_PATH": str(tmp_path / "state"),
    }
    log = tmp_path / "agent.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "agent", "--host", HOST, "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    yield proc, log
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    remove_host_firewall(HOST)


def test_agent_registers_heartbeats_answers_its_queue_and_goes_down(agent_process, broker):
    from celery.backends.redis import RedisBackend

    from compute.models import ComputeNode, Service
    from cloudproj import rpc

    proc, log = agent_process
    url, redis_client = broker

    rows = wait_for(
        lambda: (r := _service_rows()) and len(r) == 3 and all(row[4] == ":-)" for row in r.values()) and r,
        30, "three services of the agent to be up", proc, log,
    )
    assert set(rows) == {"nova-compute", "nova-network", "nova-volume"}
    assert rows["nova-compute"][2] == "nova"
    node = ComputeNode.objects.get(host=HOST)
    assert (node.hypervisor_hostname, node.vcpus, node.memory_mb) == (HOST, 16, 3072)

    # Heartbeats keep coming.
    first = Service.objects.get(host=HOST, binary="nova-compute").report_count
    wait_for(
        lambda: Service.objects.get(host=HOST, binary="nova-compute").report_count >= first + 2,
        10, "heartbeats", proc, log,
    )

    # A ping on compute.test-h1 is answered by that agent ...
    backend = RedisBackend(app=app, url=url)
    result = rpc.ping(HOST)
    meta = wait_for(
        lambda: (m := backend.get_task_meta(result.id))["status"] == "SUCCESS" and m,
        30, "the agent to answer the ping", proc, log,
    )
    assert meta["result"] == {"host": HOST, "requested": HOST}

    # ... while one for another host stays in that host's queue.
    other = rpc.ping(OTHER)
    time.sleep(3)
    assert backend.get_task_meta(other.id)["status"] == "PENDING"
    assert redis_client.llen(f"compute.{OTHER}") == 1

    assert "Traceback" not in log.read_text()

    # Kill the agent: its services go XXX within SERVICE_DOWN_TIME plus a few seconds.
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    killed_at = time.monotonic()
    wait_for(
        lambda: all(row[4] == "XXX" for row in _service_rows().values()),
        4 + 5, "the services to be reported down",
    )
    assert time.monotonic() - killed_at <= 9
    backend.forget(result.id)


def _start(argv, env_extra, tmp_path, broker):
    url, _client = broker
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": url,
        "LIBVIRT_URI": "test:///default",
        "REPORT_INTERVAL": "1",
        "SERVICE_DOWN_TIME": "4",
        "STATE_PATH": str(tmp_path / "state"),
        **env_extra,
    }
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


@pytest.mark.parametrize(
    "argv, host, binaries",
    [
        ([sys.executable, "manage.py", "scheduler", "--host", "test-sched"], "test-sched", {"nova-scheduler"}),
        (
            # The plain celery invocation documented in `manage.py agent --help`.
            [str(Path(sys.executable).with_name("celery")), "-A", "cloudproj", "worker", "-n", "agent@test-h3",
             "-Q", "compute.test-h3,network.test-h3,volume.test-h3", "-P", "threads", "-c", "2"],
            "test-h3",
            {"nova-compute", "nova-network", "nova-volume"},
        ),
    ],
    ids=["scheduler-command", "plain-celery-agent"],
)
def test_workers_register_their_services(broker, settings, tmp_path, argv, host, binaries):
    from compute.models import ComputeNode, Service

    settings.SERVICE_DOWN_TIME = 4
    proc, log = _start(argv, {"NODE_AVAILABILITY_ZONE": "az9"}, tmp_path, broker)
    try:
        wait_for(
            lambda: {s.binary for s in Service.objects.filter(host=host) if s.is_up} == binaries,
            30, f"{sorted(binaries)} on {host}", proc, log,
        )
        if "nova-compute" in binaries:
            assert Service.objects.get(host=host, binary="nova-compute").availability_zone == "az9"
            assert ComputeNode.objects.filter(host=host).exists()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        remove_host_firewall(host)
