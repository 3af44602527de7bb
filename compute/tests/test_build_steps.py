"""The pipeline's steps run in this process against libvirt's test driver: a re-delivered
step (acks_late after a worker crash) converges instead of doubling anything, and a step
whose instance went away does nothing. Sends to the broker are captured (no workers here)."""
import pytest

from cloudproj.celery import app
from cloudproj.testing.factories import Ctx, make_host, make_project_user
from compute import states
from compute.models import Claim, ComputeNode, Flavor, Instance
from compute.services import build, host_resources, instances, lifecycle
from images.services.registry import register_image
from network.models import FixedIP
from network.services.networks import create_network

pytestmark = pytest.mark.django_db

HOST = "step-host"


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: calls.append((name, args, queue)))
    # the chain of host steps: record each link's task name and queue
    monkeypatch.setattr(build, "send_host_steps", lambda instance, request_id, first=0: calls.append(
        ("host-steps", [str(instance.uuid), request_id, instance.host, build._attempt(instance)], f"compute.{instance.host}")))
    return calls


@pytest.fixture
def world(settings, tmp_path, monkeypatch):
    settings.LIBVIRT_URI = "test:///default"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.IMAGE_CACHE_PATH = tmp_path / "instances" / "_base"
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    monkeypatch.setattr(host_resources, "_driver", None)  # a fresh driver on the test URI
    make_host(HOST, arch="i686", hv_type="TEST")
    project, user = make_project_user("steps")
    flavor = Flavor.objects.create(flavorid="st", name="st", memory_mb=256, vcpus=1, root_gb=0)
    disk = tmp_path / "img.raw"
    disk.write_bytes(b"\1" * 65536)
    image = register_image(disk, "step-image", disk_format="raw", visibility="public", owner=project)
    # the network is served by another host: allocate_ip only asks it to refresh DHCP
    network = create_network("stepnet", "10.239.0.0/28", bridge="cptstep0", host="net-host")
    ctx = Ctx(user, project, request_id="req-steps")
    (instance,) = instances.create_instances(
        ctx, "stepper", flavor, {"id": str(image.id), "status": "active", "properties": {}})
    yield {"instance": instance, "network": network}
    for name in _ours():
        host_resources.driver().destroy(name)


def _ours():
    """Domains of this test (test:///default also has its own `test` domain)."""
    return [name for name in host_resources.driver().list_instances() if name.startswith("instance-")]


def _run(step, instance):
    instance.refresh_from_db()
    return build.run_step(step, instance.uuid, "req-steps", instance.host, build._attempt(instance))


def test_each_step_once_even_when_delivered_twice(world, sent):
    instance = world["instance"]
    assert build.schedule(instance.uuid, "req-steps") == HOST
    assert build.schedule(instance.uuid, "req-steps") is None  # re-delivered: already scheduled
    assert [name for name, _a, _q in sent] == ["host-steps"]
    assert Claim.objects.filter(instance=instance).count() == 1

    assert _run("allocate_ip", instance) is True
    address = FixedIP.objects.get(instance_uuid=instance.uuid).address
    assert _run("allocate_ip", instance) is True  # re-delivered: passes the chain on
    assert list(FixedIP.objects.filter(instance_uuid=instance.uuid).values_list("address", flat=True)) == [address]

    assert _run("fetch_image", instance) is True
    disk = host_resources.disk_path(instance)
    inode = disk.stat().st_ino
    assert _run("fetch_image", instance) is True
    assert disk.stat().st_ino == inode  # the overlay was kept, not recreated

    assert _run("spawn", instance) is True
    instance.refresh_from_db()
    assert (instance.status, instance.power_state) == ("ACTIVE", states.RUNNING)
    assert _run("spawn", instance) is False  # active now: a duplicate does nothing
    assert _ours() == [instance.name]
    node = ComputeNode.objects.get(host=HOST)
    assert (node.memory_mb_used, node.num_instances) == (256, 1)


def test_delete_then_late_steps_do_nothing_and_terminate_is_once(world, sent):
    instance = world["instance"]
    build.schedule(instance.uuid, "req-steps")
    _run("allocate_ip", instance)
    instance.refresh_from_db()
    instances.update_state(instance, task_state=states.task.DELETING)
    assert _run("fetch_image", instance) is False
    assert not host_resources.disk_path(instance).exists()

    assert lifecycle.terminate(instance.uuid, "req-steps", HOST) is True
    assert lifecycle.terminate(instance.uuid, "req-steps", HOST) is False  # re-delivered
    instance = Instance.all_objects.get(pk=instance.pk)
    assert instance.deleted_at is not None
    assert not FixedIP.objects.filter(instance_uuid=instance.uuid).exists()
    assert not Claim.objects.exists()
    assert ComputeNode.objects.get(host=HOST).memory_mb_used == 0


def test_a_step_of_an_old_attempt_is_ignored(world, sent):
    instance = world["instance"]
    build.schedule(instance.uuid, "req-steps")
    instance.refresh_from_db()
    stale_attempt = build._attempt(instance) - 1
    assert build.run_step("allocate_ip", instance.uuid, "req-steps", HOST, stale_attempt) is False
    assert not FixedIP.objects.filter(instance_uuid=instance.uuid).exists()


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_schedule_at_once_run_one_after_the_other(world, sent, settings, tmp_path):
    """The first copy is held after its claim (before it moves the instance on); the second
    copy waits for it instead of releasing that claim and scheduling again (which, on a full
    cloud, left an ERROR server holding the first copy's claim)."""
    import threading
    import time

    from django.db import connection

    from compute.models import InstanceActionEvent

    settings.FAULT_INJECT_PAUSE, settings.FAULT_INJECT_DIR = "schedule", str(tmp_path)
    instance = world["instance"]
    results = {}

    def deliver(copy):
        try:
            results[copy] = build.schedule(instance.uuid, "req-steps")
        finally:
            connection.close()

    first = threading.Thread(target=deliver, args=("first",))
    first.start()
    marker = tmp_path / f"schedule-{instance.uuid}"
    deadline = time.monotonic() + 20
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the first copy never reached its claim"
    second = threading.Thread(target=deliver, args=("second",))
    second.start()
    second.join(2)
    schedule_events = InstanceActionEvent.objects.filter(action__instance=instance, event="schedule")
    assert second.is_alive() and schedule_events.count() == 1  # the second copy waits
    marker.unlink()
    first.join(20)
    second.join(20)
    assert results == {"first": HOST, "second": None}
    assert [name for name, _a, _q in sent] == ["host-steps"]
    assert schedule_events.count() == 1
    assert list(Claim.objects.filter(instance=instance).values_list("host", flat=True)) == [HOST]
    instance.refresh_from_db()
    assert (instance.host, instance.task_state) == (HOST, states.task.NETWORKING)


def test_a_stopped_server_rebuilt_stays_stopped_on_the_new_disk(world, sent, tmp_path):
    """Nova's rebuild of a SHUTOFF server (tempest test_rebuild_server_in_stop_state): a fresh
    disk on the new image, the domain defined again but not started."""
    from cloudproj.testing.pipeline import image_mapping
    from compute.services import operations

    instance = world["instance"]
    build.schedule(instance.uuid, "req-steps")
    for step in ("allocate_ip", "fetch_image", "spawn"):
        assert _run(step, instance) is True
    ctx = Ctx(instance.user, instance.project, request_id="req-stop")
    instance.refresh_from_db()
    operations.request_action(ctx, instance, "stop")
    assert lifecycle.run_action(instance.uuid, "req-stop", "stop", {}) is True
    instance.refresh_from_db()
    assert (instance.status, instance.power_state) == ("SHUTOFF", states.SHUTDOWN)

    other = tmp_path / "other.raw"
    other.write_bytes(b"\2" * 65536)
    new_image = register_image(other, "other-image", disk_format="raw", visibility="public", owner=instance.project)
    disk = host_resources.disk_path(instance)

    def backing():
        import json
        import subprocess

        out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(disk)], capture_output=True,
                             text=True, check=True).stdout
        return json.loads(out)["backing-filename"]

    old_base = backing()
    ctx.request_id = "req-rebuild"
    operations.rebuild_server(ctx, instance, image_mapping(new_image))
    assert lifecycle.run_action(instance.uuid, "req-rebuild", "rebuild", {}) is True
    instance.refresh_from_db()
    assert (instance.status, instance.task_state, instance.power_state) == ("SHUTOFF", None, states.SHUTDOWN)
    assert instance.image_ref == str(new_image.id)
    assert backing() != old_base  # a fresh overlay on the new image's base
    assert _ours() == [instance.name]
    assert host_resources.driver().get_power_state(str(instance.uuid)) == states.SHUTDOWN

    # it starts on the new disk like any stopped server
    ctx.request_id = "req-start"
    operations.request_action(ctx, instance, "start")
    assert lifecycle.run_action(instance.uuid, "req-start", "start", {}) is True
    instance.refresh_from_db()
    assert (instance.status, instance.power_state) == ("ACTIVE", states.RUNNING)


def test_soft_delete_restore_and_reclaim(world, sent, settings, django_capture_on_commit_callbacks):
    """RECLAIM_INSTANCE_INTERVAL > 0: a delete powers the server off and keeps everything it
    holds (SOFT_DELETED); restore brings it back; past the interval it is deleted for good."""
    from datetime import timedelta

    from django.utils import timezone

    from compute.services import operations

    settings.RECLAIM_INSTANCE_INTERVAL = 3600
    instance = world["instance"]
    build.schedule(instance.uuid, "req-steps")
    for step in ("allocate_ip", "fetch_image", "spawn"):
        assert _run(step, instance) is True
    address = FixedIP.objects.get(instance_uuid=instance.uuid).address
    ctx = Ctx(instance.user, instance.project, request_id="req-del")
    instance.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        operations.delete_server(ctx, instance)
    instance.refresh_from_db()
    assert instance.task_state == states.task.SOFT_DELETING
    assert ("compute.instance_action", [str(instance.uuid), "req-del", "soft_delete", {"reboot_type": None}],
            f"compute.{HOST}") in sent
    assert lifecycle.run_action(instance.uuid, "req-del", "soft_delete", {}) is True
    instance.refresh_from_db()
    assert (instance.status, instance.power_state, instance.deleted_at) == ("SOFT_DELETED", states.SHUTDOWN, None)
    assert FixedIP.objects.get(instance_uuid=instance.uuid).address == address  # all kept
    assert Claim.objects.filter(instance=instance).exists() and host_resources.disk_path(instance).exists()
    assert operations.reclaim_soft_deleted() == []  # not yet

    ctx.request_id = "req-restore"
    operations.request_action(ctx, instance, "restore")
    assert lifecycle.run_action(instance.uuid, "req-restore", "restore", {}) is True
    instance.refresh_from_db()
    assert (instance.status, instance.power_state) == ("ACTIVE", states.RUNNING)
    with pytest.raises(states.InstanceInvalidState):  # only a soft-deleted server is restored
        operations.request_action(ctx, instance, "restore")

    ctx.request_id = "req-del-2"
    operations.delete_server(ctx, instance)
    assert lifecycle.run_action(instance.uuid, "req-del-2", "soft_delete", {}) is True
    later = timezone.now() + timedelta(seconds=3601)
    with django_capture_on_commit_callbacks(execute=True):
        assert operations.reclaim_soft_deleted(now=later) == [str(instance.uuid)]
    instance.refresh_from_db()
    assert instance.task_state == states.task.DELETING
    assert any(name == "compute.terminate_instance" and args[0] == str(instance.uuid) for name, args, _q in sent)
    assert lifecycle.terminate(instance.uuid, "req-reclaim", HOST) is True
    assert Instance.all_objects.get(pk=instance.pk).deleted_at is not None
    assert not FixedIP.objects.filter(instance_uuid=instance.uuid).exists() and not Claim.objects.exists()
    assert _ours() == []


def test_a_step_that_loses_the_database_is_not_rolled_back_and_runs_again(world, sent, monkeypatch):
    """PostgreSQL restarting under a step (killed for real in tests/test_make_run.py; here the
    error it raises, as the shared test database cannot be restarted): the attempt is not
    failed, and its task retries the step until the database is back."""
    from django.db import OperationalError

    from compute import tasks

    instance = world["instance"]
    build.schedule(instance.uuid, "req-steps")
    assert _run("allocate_ip", instance) is True
    real_prepare = host_resources.prepare_disk
    failures = iter([OperationalError("server closed the connection unexpectedly")])

    def prepare_while_the_database_restarts(inst):
        for exc in failures:
            raise exc
        return real_prepare(inst)

    monkeypatch.setattr(host_resources, "prepare_disk", prepare_while_the_database_restarts)
    instance.refresh_from_db()
    task_state = instance.task_state
    with pytest.raises(OperationalError):
        _run("fetch_image", instance)
    instance.refresh_from_db()
    assert (instance.status, instance.task_state, instance.faults.count()) == ("BUILD", task_state, 0)
    assert OperationalError in tasks.fetch_image.autoretry_for and tasks.fetch_image.max_retries >= 30
    assert _run("fetch_image", instance) is True  # the retry, once the database answers
    assert _run("spawn", instance) is True
    instance.refresh_from_db()
    assert instance.status == "ACTIVE"
