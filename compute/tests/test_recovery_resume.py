"""recovery.recover_host when an agent starts, for a boot step its previous process died in:
the step is sent again (steps are idempotent), its cut-short event says so, and the server
stays in its attempt, up to BUILD_STEP_RESUMES times. No processes: the pass itself, with the
message it sends read back from Redis (the faults tests kill real workers)."""
import json

import pytest
import redis

from cloudproj.testing.pipeline import boot, make_world
from compute import states
from compute.models import Instance, InstanceAction, InstanceActionEvent, InstanceFault
from compute.services import recovery
from compute.services.actions import event_start
from compute.services.instances import record_retry

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "resume-1"


def _taken(broker_url: str, queue: str) -> list[str]:
    """Task names of the messages waiting in `queue` (removed)."""
    client = redis.Redis.from_url(broker_url)
    keys = [key for key in client.keys(f"{queue}*") if key.decode().split("\x06")[0] == queue]
    names = [json.loads(raw)["headers"]["task"] for key in keys for raw in client.lrange(key, 0, -1)]
    if keys:
        client.delete(*keys)
    return names


def test_an_interrupted_step_is_run_again_then_rolled_back_past_the_bound(broker_url, tmp_path, settings):
    settings.BUILD_STEP_RESUMES = 2
    world = make_world(tmp_path, "rsm", "10.229.0.0/24", "cptrsm0", {"instances": 5, "cores": 5, "ram": 4096})
    [server] = boot(world, "resumed")
    record_retry(server, HOST)
    Instance.objects.filter(pk=server.pk).update(host=HOST, task_state=states.task.SPAWNING)
    action = InstanceAction.objects.get(instance=server, action="create")
    _taken(broker_url, f"compute.{HOST}")

    for run in (1, 2):
        event_start(action, "spawn", HOST)  # the agent died in it
        counts = recovery.recover_host(HOST)
        assert counts["resumed"] == 1 and counts["rolled_back"] == 0
        row = Instance.objects.get(pk=server.pk)
        assert (row.vm_state, row.task_state, row.host) == (states.BUILDING, states.task.SPAWNING, HOST)
        assert _taken(broker_url, f"compute.{HOST}") == ["compute.spawn"]  # the step, sent again
        events = list(InstanceActionEvent.objects.filter(action=action, event="spawn").order_by("id"))
        assert len(events) == run and all(e.finish_time and e.result == "Error" for e in events)
        assert events[-1].details == (f"The agent of {HOST} stopped during spawn of instance {server.uuid}. "
                                      "The step is run again.")
        assert not InstanceFault.objects.filter(instance=server).exists()
        assert InstanceAction.objects.get(pk=action.pk).message != "Error"  # the boot has not failed

    # a third death in the same step: the attempt is rolled back (a step that kills its agent)
    event_start(action, "spawn", HOST)
    from unittest import mock

    with mock.patch("compute.services.build.fail_attempt") as fail_attempt:
        counts = recovery.recover_host(HOST)
    assert counts["rolled_back"] == 1 and counts["resumed"] == 0
    (exc,) = [call.args[3] for call in fail_attempt.call_args_list]
    assert "interrupted 3 times: rolled back" in exc.message
    assert _taken(broker_url, f"compute.{HOST}") == []


def test_steps_not_started_are_sent_again_without_an_event(broker_url, tmp_path):
    world = make_world(tmp_path, "rsn", "10.229.1.0/24", "cptrsn0", {"instances": 5, "cores": 5, "ram": 4096})
    [server] = boot(world, "queued")
    record_retry(server, HOST)
    Instance.objects.filter(pk=server.pk).update(host=HOST, task_state=states.task.NETWORKING)
    _taken(broker_url, f"compute.{HOST}")
    assert recovery.recover_host(HOST)["resumed"] == 1
    # the chain of the remaining steps: its first link is what waits in the queue
    assert _taken(broker_url, f"compute.{HOST}") == ["compute.allocate_ip"]
    assert not InstanceActionEvent.objects.filter(action__instance=server, event="allocate_ip").exists()
