"""The host agent on RabbitMQ (the production broker of the compose deployment): it consumes
exactly its own host's queue, and a message for another host waits in that host's queue.

Results come back through Redis (RabbitMQ has no result store of its own that a second
process can read)."""
import os
import signal
import subprocess
import sys
import time

import pytest
from celery import Celery
from kombu import Connection

from cloudproj.testing.cloud import ROOT, remove_host_firewall
from cloudproj.testing.cloud import database_url as _database_url
from cloudproj.testing.cloud import wait_for as _wait

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
RESULTS_URL = "redis://127.0.0.1:6379/10"
HOST = "amqp-h1"
OTHER = "amqp-h2-absent"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _purge(*queues):
    with Connection(AMQP_URL) as conn:
        channel = conn.default_channel
        for queue in queues:
            channel.queue_declare(queue=queue, durable=True, auto_delete=False)
            channel.queue_purge(queue)


def _depth(queue: str) -> int:
    with Connection(AMQP_URL) as conn:
        return conn.default_channel.queue_declare(queue=queue, passive=True).message_count


@pytest.fixture
def amqp_agent(tmp_path):
    _purge(f"compute.{HOST}", f"compute.{OTHER}")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": AMQP_URL,
        "CELERY_RESULT_BACKEND": RESULTS_URL,
        "LIBVIRT_URI": "test:///default",
        "REPORT_INTERVAL": "1",
        "STATE_PATH": str(tmp_path / "state"),
    }
    log = tmp_path / "agent.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "agent", "--host", HOST],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    yield proc, log
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    _purge(f"compute.{HOST}", f"compute.{OTHER}")
    remove_host_firewall(HOST)


def test_agent_on_rabbitmq_answers_only_its_own_queue(amqp_agent, monkeypatch):
    from compute.models import Service

    # Celery lets these variables win over any app's configuration: point them at RabbitMQ.
    monkeypatch.setenv("CELERY_BROKER_URL", AMQP_URL)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", RESULTS_URL)
    proc, log = amqp_agent
    _wait(
        lambda: {s.binary for s in Service.objects.filter(host=HOST) if s.is_up}
        == {"nova-compute", "nova-network", "nova-volume"},
        30, "the agent's services", proc, log,
    )
    client = Celery("test-client", broker=AMQP_URL, backend=RESULTS_URL)
    client.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json")
    answer = client.send_task("compute.ping", args=[HOST], queue=f"compute.{HOST}")
    assert answer.get(timeout=30) == {"host": HOST, "requested": HOST}

    stranded = client.send_task("compute.ping", args=[OTHER], queue=f"compute.{OTHER}")
    time.sleep(3)
    assert stranded.state == "PENDING"
    assert _depth(f"compute.{OTHER}") == 1
    assert "Traceback" not in log.read_text()
