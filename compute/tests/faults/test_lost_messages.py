"""A step message the broker lost (Redis killed between handing a message to a worker and
recording it as unacknowledged: kombu cannot redeliver what it never recorded) must not leave
a server in BUILD until the build timeout: the reaper's pass (beat, BUILD_TIMEOUT_CHECK_INTERVAL)
sends the step again once the build has not moved for BUILD_STEP_RESEND_AFTER seconds.

Real processes (beat, scheduler, agent on libvirt's test driver, Redis, PostgreSQL). The loss
itself is made by deleting the queue's list in Redis while no worker is reading it; that is
the only thing the test does by hand."""
import json

import pytest
import redis

from cloudproj.testing.cloud import node_xml
from cloudproj.testing.pipeline import boot
from compute import states
from compute.models import Instance

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "flt-l1"
RESEND_AFTER = 6


def _lose_queue(broker_url: str, queue: str) -> list:
    """Drop every message waiting in `queue` (kombu keeps one list per priority step);
    returns (task name, first argument) of each."""
    client = redis.Redis.from_url(broker_url)
    keys = [key for key in client.keys(f"{queue}*") if key.decode().split("\x06")[0] == queue]
    lost = []
    for key in keys:
        for raw in client.lrange(key, 0, -1):
            headers = json.loads(raw)["headers"]
            lost.append((headers["task"], headers["argsrepr"].strip("[]()").split(",")[0].strip("'\" ")))
    if keys:
        client.delete(*keys)
    return lost


def _state(instance) -> tuple:
    row = Instance.objects.get(pk=instance.pk)
    return row.vm_state, row.task_state


@pytest.fixture
def resending_cloud(cloud, world):
    cloud.env.update(BUILD_STEP_RESEND_AFTER=str(RESEND_AFTER), BUILD_TIMEOUT_CHECK_INTERVAL="2")
    world["network"].host = HOST
    world["network"].save(update_fields=["host"])
    cloud.start_beat()
    return cloud


def test_a_lost_host_step_is_sent_again(resending_cloud, broker_url, world, tmp_path):
    cloud = resending_cloud
    cloud.start_scheduler(concurrency=2)
    # one worker thread, held inside the first server's spawn: the agent reads nothing more
    cloud.start_agent(HOST, concurrency=1, FAULT_INJECT_PAUSE="spawn",
                      LIBVIRT_URI=node_xml(tmp_path / "l1.xml", 8192))
    cloud.wait_up([HOST])
    [first] = boot(world, "holds-the-agent")
    marker = cloud.markers / f"spawn-{first.uuid}"
    cloud.wait(marker.exists, 90, "the agent to be held in the first spawn")

    [second] = boot(world, "loses-its-message")
    cloud.wait(lambda: _state(second) == (states.BUILDING, states.task.NETWORKING), 60,
               "the second server to be scheduled to the busy agent")
    lost = _lose_queue(broker_url, f"compute.{HOST}")
    assert ("compute.allocate_ip", str(second.uuid)) in lost, lost
    marker.unlink()  # the agent goes on with the first server and then has nothing to read

    cloud.wait(lambda: _state(first) == (states.ACTIVE, None), 60, "the first server to be ACTIVE")

    def second_active():
        (cloud.markers / f"spawn-{second.uuid}").unlink(missing_ok=True)  # its spawn is held too
        return _state(second) == (states.ACTIVE, None)

    cloud.wait(second_active, 90, "the server whose step was lost to be sent again and become ACTIVE")
    assert "their next step sent again: {'schedule': 0, 'host_steps': 1}" in cloud.logs_of("scheduler")


def test_a_lost_schedule_message_is_sent_again(resending_cloud, broker_url, world, tmp_path):
    cloud = resending_cloud
    cloud.start_agent(HOST, LIBVIRT_URI=node_xml(tmp_path / "l1.xml", 8192))
    cloud.wait_up([HOST])
    [server] = boot(world, "no-scheduler-yet")  # no scheduler is reading its queue
    lost = _lose_queue(broker_url, "scheduler")
    assert ("compute.schedule_instance", str(server.uuid)) in lost, lost
    cloud.start_scheduler(concurrency=2)

    cloud.wait(lambda: _state(server) == (states.ACTIVE, None), 90,
               "the server whose schedule message was lost to be sent again and become ACTIVE")
    # a scheduler that starts sends every build waiting to be scheduled (recover_scheduler)
    assert "scheduler start: 1 build(s) waiting to be scheduled sent again" in cloud.logs_of("scheduler")


@pytest.mark.django_db(transaction=True)
def test_resend_waits_for_a_quiet_build_and_leaves_running_steps_alone(broker_url, world, settings):
    """No processes: the reaper's pass itself, over one server waiting to be scheduled."""
    from datetime import timedelta

    from django.utils import timezone

    from compute.models import InstanceAction
    from compute.services import recovery
    from compute.services.actions import event_finish, event_start

    settings.BUILD_STEP_RESEND_AFTER = 60
    settings.BUILD_SCHEDULE_RESEND_AFTER = 0  # its own test below
    [server] = boot(world, "quiet")

    def quiet_for(seconds):
        Instance.objects.filter(pk=server.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))

    assert recovery.resend_stalled() == {"schedule": 0, "host_steps": 0}  # just created
    quiet_for(30)
    assert recovery.resend_stalled() == {"schedule": 0, "host_steps": 0}
    running = event_start(InstanceAction.objects.get(instance=server, action="create"), "schedule")
    quiet_for(120)
    assert recovery.resend_stalled() == {"schedule": 0, "host_steps": 0}  # a scheduler is on it
    event_finish(running)
    assert recovery.resend_stalled() == {"schedule": 1, "host_steps": 0}
    assert recovery.resend_stalled() == {"schedule": 0, "host_steps": 0}  # touched: waits again
    lost = _lose_queue(broker_url, "scheduler")
    assert lost.count(("compute.schedule_instance", str(server.uuid))) == 2  # the boot's and the resend

    settings.BUILD_STEP_RESEND_AFTER = 0
    quiet_for(120)
    assert recovery.resend_stalled() == {"schedule": 0, "host_steps": 0}  # 0: off


@pytest.mark.django_db(transaction=True)
def test_a_build_no_scheduler_started_is_sent_after_its_own_shorter_wait(broker_url, world, settings):
    """No processes: a server committed without its schedule message (the API killed between
    commit and publish) is sent again after BUILD_SCHEDULE_RESEND_AFTER; one a scheduler started
    is left to the longer BUILD_STEP_RESEND_AFTER."""
    from datetime import timedelta

    from django.utils import timezone

    from compute.models import InstanceAction
    from compute.services import recovery
    from compute.services.actions import event_finish, event_start

    settings.BUILD_STEP_RESEND_AFTER = 600
    settings.BUILD_SCHEDULE_RESEND_AFTER = 30
    [server] = boot(world, "unsent")
    _lose_queue(broker_url, "scheduler")  # as if never published

    def quiet_for(seconds):
        Instance.objects.filter(pk=server.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))

    quiet_for(10)
    assert recovery.resend_stalled() == {"schedule": 0, "host_steps": 0}
    quiet_for(40)
    assert recovery.resend_stalled() == {"schedule": 1, "host_steps": 0}
    assert recovery.resend_stalled() == {"schedule": 0, "host_steps": 0}  # touched: waits again
    assert _lose_queue(broker_url, "scheduler") == [("compute.schedule_instance", str(server.uuid))]
    # a scheduler started it (its event, finished or not): the 30 s rule no longer applies
    event_finish(event_start(InstanceAction.objects.get(instance=server, action="create"), "schedule"))
    quiet_for(40)
    assert recovery.resend_stalled() == {"schedule": 0, "host_steps": 0}
    settings.BUILD_SCHEDULE_RESEND_AFTER = 0
    Instance.objects.filter(pk=server.pk).update(updated_at=timezone.now() - timedelta(seconds=3600))
    assert recovery.resend_stalled() == {"schedule": 1, "host_steps": 0}  # the long rule's


@pytest.mark.django_db(transaction=True)
def test_a_starting_scheduler_sends_the_builds_waiting_to_be_scheduled(broker_url, world):
    from compute.services import recovery

    waiting = boot(world, "waiting", count=2)
    _lose_queue(broker_url, "scheduler")
    assert recovery.recover_scheduler() == 2
    assert sorted(_lose_queue(broker_url, "scheduler")) == sorted(
        ("compute.schedule_instance", str(i.uuid)) for i in waiting)
