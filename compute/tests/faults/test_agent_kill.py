"""Kill -9 a worker in the middle of each pipeline step and of a delete, then start it again
(real processes: scheduler and agent on libvirt's test driver, real Redis, PostgreSQL, bridge
and dnsmasq). Every server ends ACTIVE or ERROR with a fault, and once deleted nothing is left:
fixed IPs, DHCP entries, capacity claims, overlays, quota usage.

The worker is held at the step by the test-only FAULT_INJECT_PAUSE hook (it writes a marker
file after the step's work is done, still inside the step, and sleeps), so the kill lands
inside the step every time.
"""
import pytest

from cloudproj.testing.cloud import node_xml
from cloudproj.testing.pipeline import assert_nothing_leaked, boot, delete, gone, settled
from compute import states
from compute.models import Claim, Instance, InstanceActionEvent, InstanceFault
from network.models import FixedIP
from compute.services import operations

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "flt-1"


def _start_agent(cloud, tmp_path, **env):
    cloud.start_agent(HOST, LIBVIRT_URI=node_xml(tmp_path / "flt-1.xml", 8192), **env)


def _held_at(cloud, point, instance):
    marker = cloud.markers / f"{point}-{instance.uuid}"
    cloud.wait(marker.exists, 90, f"the worker to be held in {point}")


@pytest.mark.parametrize("point", ["schedule", "allocate_ip", "fetch_image", "spawn"])
def test_kill_during_a_boot_step_then_restart(cloud, world, tmp_path, point):
    """The killed worker's boot goes on when it is started again, well before the broker's
    visibility timeout (900 s, the default, here) or the reaper: a scheduler's start sends the
    builds waiting to be scheduled again, an agent's start runs its interrupted step again
    (steps are idempotent). Every server ends ACTIVE, each with one address and one claim."""
    world["network"].host = HOST
    world["network"].save(update_fields=["host"])
    cloud.env["BROKER_VISIBILITY_TIMEOUT"] = "900"  # the default: no redelivery within the test
    on_scheduler = point == "schedule"
    cloud.start_scheduler(concurrency=2, **({"FAULT_INJECT_PAUSE": point} if on_scheduler else {}))
    _start_agent(cloud, tmp_path, **({} if on_scheduler else {"FAULT_INJECT_PAUSE": point}))
    cloud.wait_up([HOST])

    victim, *others = boot(world, f"kill-{point}", count=3)
    _held_at(cloud, point, victim)
    cloud.kill("scheduler" if on_scheduler else f"agent-{HOST}")
    if on_scheduler:
        cloud.start_scheduler(concurrency=2)
    else:
        _start_agent(cloud, tmp_path)
    uuids = [victim.uuid, *(i.uuid for i in others)]
    cloud.wait(lambda: settled(uuids), 120, f"the servers to settle after a kill in {point}")

    rows = {row.uuid: row for row in Instance.objects.filter(uuid__in=uuids)}
    assert set(rows) == set(uuids)
    assert {row.vm_state for row in rows.values()} == {states.ACTIVE}
    assert not InstanceFault.objects.filter(instance__uuid__in=uuids).exists()
    for uuid in uuids:
        assert FixedIP.objects.filter(instance_uuid=uuid).count() == 1
        assert Claim.objects.filter(instance__uuid=uuid).count() == 1
    # the interrupted step is in the server's history: cut short, then run again
    events = list(InstanceActionEvent.objects.filter(action__instance__uuid=victim.uuid, event=point)
                  .order_by("start_time", "id").values_list("result", "details"))
    assert [result for result, _details in events] == ["Error", "Success"], events
    expected = "scheduler running it stopped" if on_scheduler else f"stopped during {point}"
    assert expected in events[0][1]

    for instance in [victim, *others]:
        delete(world, instance)
    cloud.wait(lambda: gone(uuids), 60, "the servers to be deleted")
    assert_nothing_leaked(world, cloud, [HOST])


def test_a_step_interrupted_too_often_is_rolled_back(cloud, world, tmp_path):
    """BUILD_STEP_RESUMES bounds the reruns (a step that kills its agent): with 0 the
    interrupted attempt is rolled back with a fault naming the kill and, with one host, the
    retry has nowhere else to go: ERROR (as Nova's RetryFilter decides)."""
    world["network"].host = HOST
    world["network"].save(update_fields=["host"])
    cloud.start_scheduler(concurrency=2)
    _start_agent(cloud, tmp_path, FAULT_INJECT_PAUSE="spawn", BUILD_STEP_RESUMES=0)
    cloud.wait_up([HOST])
    (victim,) = boot(world, "kill-often")
    _held_at(cloud, "spawn", victim)
    cloud.kill(f"agent-{HOST}")
    _start_agent(cloud, tmp_path, BUILD_STEP_RESUMES=0)
    cloud.wait(lambda: settled([victim.uuid]), 60, "the interrupted build to settle")
    row = Instance.objects.get(uuid=victim.uuid)
    assert row.vm_state == states.ERROR
    faults = InstanceFault.objects.filter(instance=row).values_list("message", flat=True)
    assert any("stopped during spawn" in message and "rolled back" in message for message in faults), list(faults)
    delete(world, victim)
    cloud.wait(lambda: gone([victim.uuid]), 60, "the server to be deleted")
    assert_nothing_leaked(world, cloud, [HOST])


def test_kill_during_delete_then_restart(cloud, world, tmp_path):
    world["network"].host = HOST
    world["network"].save(update_fields=["host"])
    cloud.start_scheduler(concurrency=2)
    _start_agent(cloud, tmp_path)
    cloud.wait_up([HOST])
    servers = boot(world, "kill-delete", count=2)
    uuids = [i.uuid for i in servers]
    cloud.wait(lambda: settled(uuids), 90, "the servers to boot")
    assert set(Instance.objects.filter(uuid__in=uuids).values_list("vm_state", flat=True)) == {states.ACTIVE}

    cloud.kill(f"agent-{HOST}", sig=15)
    _start_agent(cloud, tmp_path, FAULT_INJECT_PAUSE="terminate")
    cloud.wait_up([HOST])
    delete(world, servers[0])
    _held_at(cloud, "terminate", servers[0])
    cloud.kill(f"agent-{HOST}")
    assert Instance.objects.get(uuid=servers[0].uuid).task_state == states.task.DELETING
    _start_agent(cloud, tmp_path)
    cloud.wait(lambda: gone([servers[0].uuid]), 60, "the interrupted delete to be finished")
    delete(world, servers[1])
    cloud.wait(lambda: gone(uuids), 60, "the servers to be deleted")
    assert_nothing_leaked(world, cloud, [HOST])


def test_build_stuck_on_a_dead_agent_goes_to_error_after_the_build_timeout(cloud, world, tmp_path):
    """The agent dies in spawn and is not restarted: the reaper (run by the scheduler
    worker, as beat sends it) puts the server in ERROR with a fault after BUILD_TIMEOUT;
    deleting it then releases everything, here (the host is down)."""
    from cloudproj.celery import app

    world["network"].host = HOST
    world["network"].save(update_fields=["host"])
    cloud.start_scheduler(concurrency=2, BUILD_TIMEOUT=8)
    _start_agent(cloud, tmp_path, FAULT_INJECT_PAUSE="spawn")
    cloud.wait_up([HOST])
    (victim,) = boot(world, "stuck")
    _held_at(cloud, "spawn", victim)
    cloud.kill(f"agent-{HOST}")
    assert Instance.objects.get(uuid=victim.uuid).vm_state == states.BUILDING

    def reaped():
        app.send_task("compute.reap_stuck_builds", queue="scheduler")
        return Instance.objects.get(uuid=victim.uuid).vm_state == states.ERROR

    cloud.wait(reaped, 60, "the reaper to put the stuck build in ERROR", interval=2)
    fault = InstanceFault.objects.filter(instance__uuid=victim.uuid).latest("created_at")
    assert "timed out after 8 seconds" in fault.message
    assert Instance.objects.get(uuid=victim.uuid).task_state is None

    cloud.wait(lambda: not operations.compute_is_up(HOST),
               30, "the killed agent to be seen down")
    delete(world, victim)
    assert gone([victim.uuid])
    _start_agent(cloud, tmp_path)  # back: its leftovers (overlay, DHCP entry) are cleaned
    cloud.wait_up([HOST])
    cloud.wait(lambda: _no_instance_dirs(cloud), 60, "the agent to remove the reaped build's files")
    assert_nothing_leaked(world, cloud, [HOST])


def _no_instance_dirs(cloud):
    instances = cloud.state_path(HOST) / "instances"
    return not instances.exists() or not [p for p in instances.iterdir() if p.name.startswith("instance-")]


# libvirt's test driver forgets the domains an agent made when that agent process dies, so
# here every guest has vanished after the restart (power state NOSTATE → SHUTOFF, as the
# power-state sync has it); on a real host a guest that survived its agent is found RUNNING
# (ACTIVE) or SHUTDOWN (SHUTOFF) by the same code.
@pytest.mark.parametrize("action, expected_vm_state", [("reboot", states.STOPPED), ("stop", states.STOPPED),
                                                       ("rebuild", states.ERROR)])
def test_kill_during_an_action_then_restart(cloud, world, tmp_path, action, expected_vm_state):
    """The agent dies while it reboots/stops/rebuilds a server: when it starts again the server
    leaves the action's task_state, with the vm_state of what the guest now is (a cut-short
    rebuild: ERROR, as Nova) and a fault naming the interruption; it can be started again."""
    world["network"].host = HOST
    world["network"].save(update_fields=["host"])
    cloud.start_scheduler(concurrency=2)
    _start_agent(cloud, tmp_path, FAULT_INJECT_PAUSE=action)
    cloud.wait_up([HOST])
    (server,) = boot(world, f"kill-{action}")
    cloud.wait(lambda: settled([server.uuid]), 90, "the server to boot")
    server = Instance.objects.get(uuid=server.uuid)
    assert server.vm_state == states.ACTIVE

    ctx = world["ctx"]
    if action == "rebuild":
        image = world["image"]
        operations.rebuild_server(ctx, server, {"id": str(image.id), "status": image.status, "properties": {},
                                                "min_disk": 0, "min_ram": 0, "size": image.size})
    else:
        operations.request_action(ctx, server, action)
    _held_at(cloud, action, server)
    cloud.kill(f"agent-{HOST}")
    assert Instance.objects.get(uuid=server.uuid).task_state is not None
    _start_agent(cloud, tmp_path)

    def settled_after_the_kill():
        row = Instance.objects.get(uuid=server.uuid)
        return row.task_state is None and row.vm_state == expected_vm_state

    cloud.wait(settled_after_the_kill, 60, f"the interrupted {action} to be settled")
    fault = InstanceFault.objects.filter(instance__uuid=server.uuid).latest("created_at")
    assert f"stopped during {action}" in fault.message
    if expected_vm_state == states.STOPPED:  # start defines the vanished domain again
        operations.request_action(ctx, Instance.objects.get(uuid=server.uuid), "start")
        cloud.wait(lambda: Instance.objects.get(uuid=server.uuid).vm_state == states.ACTIVE, 60,
                   "the stopped server to start again")
        assert [d for d in cloud.list_domains(HOST) if d["uuid"] == str(server.uuid)]
    delete(world, server)
    cloud.wait(lambda: gone([server.uuid]), 60, "the server to be deleted")
    assert_nothing_leaked(world, cloud, [HOST])
