"""One boot, step by step, in this process: what each step of the boot path costs in SQL
queries, messages published (each one serialisation and one broker round trip) and time.

    steps = profile_boot(client, body, send=real_or_none)
    [StepProfile(name="post", queries=..., messages=..., seconds=..., sql=[...]), ...]

The steps are the ones the processes run: `post` (the API's POST /servers, in the API
process), `schedule` (the scheduler worker), then `allocate_ip`, `fetch_image` and `spawn`
(the agent of the chosen host, acting for it as a fleet's worker thread does). Used by
bench/boot_profile.py and bench/control_plane.py (figures) and by the per-boot query-count
tests (guards)."""
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudproj.celery import app
from cloudproj.host import identity
from compute.models import Instance
from compute.services import build

HOST_STEPS = tuple(name for name, _runs_in, _leaves in build.STEPS)


@dataclass
class StepProfile:
    name: str
    queries: int = 0
    messages: int = 0
    seconds: float = 0.0
    sql: list = field(default_factory=list)


@contextmanager
def counted_sends(send=None):
    """Every message published in the block is recorded ([(task name, queue)]); `send`: the
    real app.send_task to pass each to (None: nothing reaches a broker)."""
    sent: list = []
    original = app.send_task

    def record(name, args=None, kwargs=None, **options):
        sent.append((name, options.get("queue")))
        return send(name, args=args, kwargs=kwargs, **options) if send else None

    app.send_task = record
    try:
        yield sent
    finally:
        app.send_task = original


def _measure(name: str, sent: list, fn) -> tuple[StepProfile, object]:
    before = len(sent)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    return StepProfile(name, len(queries), len(sent) - before, seconds, [q["sql"] for q in queries]), result


def profile_boot(client, body: dict, send=None) -> list[StepProfile]:
    """POST /compute/v2.1/servers with `client` (authenticated), then schedule and run the
    host steps of the new server here; the server ends ACTIVE (AssertionError otherwise)."""
    with counted_sends(send) as sent:
        post, response = _measure("post", sent, lambda: client.post(
            "/compute/v2.1/servers", body, format="json"))
        assert response.status_code == 202, response.content[:500]
        uuid = response.json()["server"]["id"]
        request_id = response["x-openstack-request-id"]
        schedule, host = _measure("schedule", sent, lambda: build.schedule(uuid, request_id))
        assert host, f"server {uuid} was not scheduled"
        attempt = build._attempt(Instance.objects.get(uuid=uuid))
        steps = [post, schedule]
        with identity.acting_for(host):
            for name in HOST_STEPS:
                step, went_on = _measure(name, sent, lambda n=name: build.run_step(n, uuid, request_id, host, attempt))
                assert went_on, f"step {name} of {uuid} stopped"
                steps.append(step)
    instance = Instance.objects.get(uuid=uuid)
    assert instance.vm_state == "active", (instance.vm_state, instance.task_state)
    return steps
