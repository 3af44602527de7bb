"""The server-group late check inside the boot pipeline (the host's first step), in this
process against libvirt's test driver and PostgreSQL: two builds of an anti-affinity group
that were both scheduled to one host (the race two schedulers can run: here the scheduler's
group filter is left out to make it) - the first to reach the host's check is sent back with
its claim released and a fault that says why, the other goes on; the rescheduled one lands
on another host. Sends to the broker are captured (no workers here)."""
import pytest

from cloudproj.celery import app
from cloudproj.testing.factories import Ctx, make_host, make_project_user
from compute import states
from compute.models import Claim, Flavor, Instance, InstanceFault, ServerGroup
from compute.services import build, host_resources, instances, server_groups
from images.services.registry import register_image
from network.services.networks import create_network

pytestmark = pytest.mark.django_db

T = states.task


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: calls.append((name, args, queue)))
    monkeypatch.setattr(build, "send_host_steps", lambda instance, request_id, first=0: calls.append(
        ("host-steps", [str(instance.uuid)], f"compute.{instance.host}")))
    return calls


def test_second_build_on_the_same_host_is_rescheduled(settings, tmp_path, monkeypatch, sent):
    settings.LIBVIRT_URI = "test:///default"
    settings.INSTANCES_PATH = tmp_path / "instances"
    monkeypatch.setattr(host_resources, "_driver", None)
    # the race: neither scheduler saw the other's claim (the group filter left out)
    settings.SCHEDULER_FILTERS = [f for f in settings.SCHEDULER_FILTERS if "ServerGroup" not in f]
    make_host("host-1")
    project, user = make_project_user("late")
    flavor = Flavor.objects.create(flavorid="lc", name="lc", memory_mb=256, vcpus=1, root_gb=0)
    create_network("latenet", "10.238.0.0/28", bridge="cptlate0", host="net-host")
    ctx = Ctx(user, project, request_id="req-late")
    group = ServerGroup.objects.create(name="g", policy="anti-affinity", project_id=project.id, user_id=user.id)
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    disk = tmp_path / "img.raw"
    disk.write_bytes(b"\1" * 65536)
    image = register_image(disk, "late-image", disk_format="raw", visibility="public", owner=project)
    created = instances.create_instances(ctx, "member", flavor, {"id": str(image.id), "status": "active",
                                                                 "properties": {}},
                                         min_count=2, scheduler_hints={"group": str(group.uuid)})
    server_groups.add_members(group, created)
    first, second = created
    assert build.schedule(first.uuid, "req-late") == "host-1"
    assert build.schedule(second.uuid, "req-late") == "host-1"  # both claimed host-1

    second.refresh_from_db()
    assert build.run_step("allocate_ip", second.uuid, "req-late", "host-1", 1) is False
    second.refresh_from_db()
    assert (second.vm_state, second.task_state, second.host) == (states.BUILDING, T.SCHEDULING, None)
    assert not Claim.objects.filter(instance=second).exists()
    fault = InstanceFault.objects.get(instance=second)
    assert "re-scheduled" in fault.message and "anti-affinity" in fault.message
    assert ("compute.schedule_instance", [str(second.uuid), "req-late"], "scheduler") in sent

    first.refresh_from_db()
    assert build.run_step("allocate_ip", first.uuid, "req-late", "host-1", 1) is True  # it stays
    first.refresh_from_db()
    assert first.task_state == T.BLOCK_DEVICE_MAPPING and Claim.objects.get(instance=first).host == "host-1"

    # the reschedule: host-1 was tried; a second host takes it
    make_host("host-2")
    assert build.schedule(second.uuid, "req-late") == "host-2"
    assert Instance.objects.get(pk=second.pk).retry["num_attempts"] == 2
