"""Resize, confirm and revert, step by step in this process against libvirt's test driver
(real domains there, real qcow2 files and qemu-img): the claims on the node, the quota, the
files and the domain a user and an operator would see after each outcome, and the rollback
of each failure. Sends to the broker are captured and run here (no workers)."""
import pytest

from cloudproj.celery import app
from cloudproj.testing.factories import Ctx, make_host, make_project_user
from compute import states
from compute.models import (
    Claim, ComputeNode, Flavor, Instance, InstanceAction, InstanceFault, InstanceResize, Migration,
)
from compute.scheduler.claims import usage_from_claims
from compute.services import build, host_resources, instances, lifecycle, resize, resize_host
from compute.services.actions import event_start
from compute.virt.driver import DriverError
from cloudproj import rpc
from cloudproj import task_names as names
from cloudproj.exceptions import Conflict, Invalid, OverQuota
from identity.services import quotas
from images.drivers import qemu_img
from images.services.registry import register_image

pytestmark = pytest.mark.django_db

HOST = "rsz-host"
T = states.task
GiB = 1024**3


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: calls.append((name, args, queue)))
    monkeypatch.setattr(build, "send_host_steps", lambda instance, request_id, first=0: None)
    # no transaction is committed in these tests: what would go after the commit goes now
    monkeypatch.setattr(rpc, "_after_commit", lambda name, args, queue: app.send_task(name, args=args, queue=queue))
    return calls


@pytest.fixture
def world(settings, tmp_path, monkeypatch, sent):
    settings.LIBVIRT_URI = "test:///default"
    settings.CLOUD_HOST = HOST
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.IMAGE_CACHE_PATH = tmp_path / "instances" / "_base"
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.ALLOW_RESIZE_TO_SAME_HOST = True
    monkeypatch.setattr(host_resources, "_driver", None)
    node = make_host(HOST, vcpus=4, memory_mb=4096, arch="i686", hv_type="TEST")
    project, user = make_project_user("resizer")
    small = Flavor.objects.create(flavorid="rs1", name="rs.small", memory_mb=256, vcpus=1, root_gb=1)
    big = Flavor.objects.create(flavorid="rs2", name="rs.big", memory_mb=1024, vcpus=2, root_gb=2)
    disk = tmp_path / "img.raw"
    disk.write_bytes(b"\1" * 65536)
    image = register_image(disk, "rsz-image", disk_format="raw", visibility="public", owner=project)
    from network.services.networks import create_network

    create_network("rsznet", "10.238.0.0/28", bridge="cptrsz0", host="net-host")
    ctx = Ctx(user, project, request_id="req-boot")
    (instance,) = instances.create_instances(ctx, "resized", small, {"id": str(image.id), "status": "active",
                                                                       "properties": {}})
    build.schedule(instance.uuid, "req-boot")
    for step in ("allocate_ip", "fetch_image", "spawn"):
        instance.refresh_from_db()
        assert build.run_step(step, instance.uuid, "req-boot", HOST, build._attempt(instance))
    instance.refresh_from_db()
    assert instance.status == "ACTIVE"
    sent.clear()  # the boot's own messages (DHCP refresh on the network host)
    yield {"instance": instance, "small": small, "big": big, "node": node, "project": project,
           "ctx": Ctx(user, project, request_id="req-resize")}
    for name in host_resources.driver().list_instances():
        if name.startswith("instance-"):
            host_resources.driver().destroy(name)


def _deliver(sent, expect: str) -> None:
    """Run the one captured message named `expect` here, as its worker would."""
    matching = [entry for entry in sent if entry[0] == expect]
    assert len(matching) == 1, sent
    sent.remove(matching[0])
    name, args, queue = matching[0]
    if name == names.PREP_RESIZE:
        assert queue == "scheduler"
        resize.prep_resize(*args)
        return
    step = next(key for key, value in names.RESIZE_STEP_TASKS.items() if value == name)
    assert queue == f"compute.{HOST}"
    resize_host.run_step(step, *args)


def _usage_matches_claims():
    node = ComputeNode.objects.get(host=HOST)
    usage = usage_from_claims(node)
    assert (node.vcpus_used, node.memory_mb_used, node.local_gb_used, node.num_instances) == (
        usage["vcpus_used"], usage["memory_mb_used"], usage["local_gb_used"], usage["num_instances"])
    return node


def _in_use(project, resource):
    return quotas.get_usages(project)[resource]["in_use"]


def _domain_memory_mb(instance):
    return host_resources.driver().get_info(str(instance.uuid)).max_mem_kb // 1024


def _virtual_gb(instance):
    return qemu_img.info(host_resources.disk_path(instance), fmt="qcow2")["virtual-size"] / GiB


def _to_verify_resize(world, sent):
    instance = world["instance"]
    resize.resize_server(world["ctx"], instance, world["big"])
    instance.refresh_from_db()
    assert (instance.status, instance.task_state) == ("RESIZE", T.RESIZE_PREP)
    _deliver(sent, names.PREP_RESIZE)
    instance.refresh_from_db()
    assert instance.task_state == T.RESIZE_MIGRATING
    node = ComputeNode.objects.get(host=HOST)
    # both flavors are held on the host while the resize is in flight, the slot once
    assert (node.memory_mb_used, node.vcpus_used, node.num_instances) == (256 + 1024, 1 + 2, 1)
    _deliver(sent, names.RESIZE_STEP_TASKS["resize_instance"])
    assert resize_host.resize_dir(instance).is_dir() and not host_resources.instance_dir(instance).exists()
    _deliver(sent, names.RESIZE_STEP_TASKS["finish_resize"])
    instance.refresh_from_db()
    return instance


def test_resize_up_then_confirm(world, sent):
    instance, project = world["instance"], world["project"]
    assert (_in_use(project, "cores"), _in_use(project, "ram")) == (1, 256)
    instance = _to_verify_resize(world, sent)
    assert (instance.status, instance.vm_state, instance.task_state) == ("VERIFY_RESIZE", states.RESIZED, None)
    assert (instance.flavorid, instance.memory_mb, instance.vcpus, instance.root_gb) == ("rs2", 1024, 2, 2)
    assert instance.power_state == states.power.RUNNING and _domain_memory_mb(instance) == 1024
    assert _virtual_gb(instance) == 2  # grown with qemu-img from the 1 GB disk
    assert resize_host.resize_dir(instance).is_dir()  # the old disk waits for confirm or revert
    assert (_in_use(project, "cores"), _in_use(project, "ram")) == (2, 1024)

    resize.confirm_resize(world["ctx"], instance)
    assert instance.task_state == T.RESIZE_CONFIRMING and instance.status == "VERIFY_RESIZE"
    _deliver(sent, names.RESIZE_STEP_TASKS["confirm_on_source"])
    instance.refresh_from_db()
    assert (instance.status, instance.memory_mb) == ("ACTIVE", 1024)
    assert not resize_host.resize_dir(instance).exists() and host_resources.disk_path(instance).is_file()
    assert not InstanceResize.objects.exists()
    claim = Claim.objects.get(instance=instance)
    assert (claim.host, claim.memory_mb, claim.vcpus, claim.disk_gb) == (HOST, 1024, 2, 2)
    node = _usage_matches_claims()
    assert (node.memory_mb_used, node.num_instances) == (1024, 1)
    assert (_in_use(project, "cores"), _in_use(project, "ram")) == (2, 1024)
    actions = list(InstanceAction.objects.filter(instance=instance).values_list("action", "message"))
    assert ("resize", None) in actions and ("confirmResize", None) in actions
    events = set(InstanceAction.objects.get(instance=instance, action="resize").events.values_list("event", "result"))
    assert events == {("compute_prep_resize", "Success"), ("compute_resize_instance", "Success"),
                      ("compute_finish_resize", "Success")}
    assert not sent
    # os-migrations keeps the move
    migration = Migration.objects.get(instance_uuid=instance.uuid)
    assert (migration.migration_type, migration.status, migration.source_compute, migration.dest_compute) == (
        "resize", "confirmed", HOST, HOST)
    assert (migration.old_instance_type_id, migration.new_instance_type_id) == (world["small"].pk, world["big"].pk)


def test_resize_then_revert_restores_everything(world, sent):
    instance, project = world["instance"], world["project"]
    disk_before = host_resources.disk_path(instance).read_bytes()
    instance = _to_verify_resize(world, sent)
    resize.revert_resize(world["ctx"], instance)
    assert instance.status == "REVERT_RESIZE"
    _deliver(sent, names.RESIZE_STEP_TASKS["revert_on_dest"])
    _deliver(sent, names.RESIZE_STEP_TASKS["finish_revert"])
    instance.refresh_from_db()
    assert (instance.status, instance.flavorid, instance.memory_mb, instance.vcpus, instance.root_gb) == (
        "ACTIVE", "rs1", 256, 1, 1)
    assert _domain_memory_mb(instance) == 256 and _virtual_gb(instance) == 1
    assert host_resources.disk_path(instance).read_bytes() == disk_before  # the very same disk
    assert not resize_host.resize_dir(instance).exists() and not InstanceResize.objects.exists()
    node = _usage_matches_claims()
    assert (node.memory_mb_used, node.vcpus_used, node.num_instances) == (256, 1, 1)
    assert (_in_use(project, "cores"), _in_use(project, "ram")) == (1, 256)
    assert InstanceAction.objects.get(instance=instance, action="revertResize").finish_time is not None
    assert Migration.objects.get(instance_uuid=instance.uuid).status == "reverted"


def test_resize_of_a_stopped_server_stays_stopped(world, sent):
    instance = world["instance"]
    lifecycle.hr.driver().power_off(str(instance.uuid), timeout=0)
    instances.update_state(instance, vm_state=states.STOPPED, power_state=states.power.SHUTDOWN)
    instance = _to_verify_resize(world, sent)
    assert instance.status == "VERIFY_RESIZE" and instance.power_state == states.power.SHUTDOWN
    resize.confirm_resize(world["ctx"], instance)
    _deliver(sent, names.RESIZE_STEP_TASKS["confirm_on_source"])
    instance.refresh_from_db()
    assert instance.status == "SHUTOFF" and instance.memory_mb == 1024
    instances.update_state(instance, task_state=T.POWERING_ON)
    assert lifecycle.run_action(instance.uuid, "req-start", "start")
    assert _domain_memory_mb(instance) == 1024


def test_no_other_host_and_same_host_not_allowed(world, sent, settings):
    settings.ALLOW_RESIZE_TO_SAME_HOST = False
    instance = world["instance"]
    resize.resize_server(world["ctx"], instance, world["big"])
    _deliver(sent, names.PREP_RESIZE)
    instance.refresh_from_db()
    assert (instance.status, instance.memory_mb, instance.task_state) == ("ACTIVE", 256, None)
    fault = InstanceFault.objects.filter(instance=instance).latest("created_at")
    assert "No valid host" in fault.message and "ALLOW_RESIZE_TO_SAME_HOST" in fault.message
    assert InstanceAction.objects.get(instance=instance, action="resize").message == "Error"
    assert not InstanceResize.objects.exists() and not sent
    node = _usage_matches_claims()
    assert node.memory_mb_used == 256
    assert _in_use(world["project"], "ram") == 256
    assert Migration.objects.get(instance_uuid=instance.uuid).status == "error"


def test_a_failed_spawn_on_the_destination_rolls_back_to_the_source(world, sent, monkeypatch):
    instance = world["instance"]
    drv = host_resources.driver()
    real_spawn = drv.spawn

    def spawn(spec, timeout=60.0):
        if spec.memory_mb == 1024:
            raise DriverError("no room for the new flavor (injected)")
        return real_spawn(spec, timeout)

    monkeypatch.setattr(drv, "spawn", spawn)
    resize.resize_server(world["ctx"], instance, world["big"])
    _deliver(sent, names.PREP_RESIZE)
    _deliver(sent, names.RESIZE_STEP_TASKS["resize_instance"])
    _deliver(sent, names.RESIZE_STEP_TASKS["finish_resize"])
    instance.refresh_from_db()
    # running on the source again, old flavor, with a fault that says why
    assert (instance.status, instance.memory_mb, instance.root_gb, instance.task_state) == ("ACTIVE", 256, 1, None)
    assert instance.power_state == states.power.RUNNING and _domain_memory_mb(instance) == 256
    assert "injected" in InstanceFault.objects.filter(instance=instance).latest("created_at").message
    assert not resize_host.resize_dir(instance).exists() and _virtual_gb(instance) == 1
    assert not InstanceResize.objects.exists() and not sent
    node = _usage_matches_claims()
    assert node.memory_mb_used == 256
    assert _in_use(world["project"], "ram") == 256
    events = dict(InstanceAction.objects.get(instance=instance, action="resize").events.values_list("event", "result"))
    assert events["compute_finish_resize"] == "Error"


def test_the_agent_dying_in_finish_resize_is_rolled_back_when_it_starts(world, sent):
    """What recover_host finds after kill -9 in finish_resize: the event still open, the new
    flavor half applied. (The real kill is compute/tests/faults/test_resize_kill.py.)"""
    instance = world["instance"]
    resize.resize_server(world["ctx"], instance, world["big"])
    _deliver(sent, names.PREP_RESIZE)
    _deliver(sent, names.RESIZE_STEP_TASKS["resize_instance"])
    instance.refresh_from_db()
    record = InstanceResize.objects.get(instance=instance)
    # the step's work half done when the worker died
    instances.update_state(instance, task_state=T.RESIZE_FINISH)
    resize_host._apply_flavor(instance, record.new_flavor, host=HOST, node=HOST)
    host_resources.prepare_disk(instance)
    event_start(InstanceAction.objects.get(instance=instance, action="resize"), "compute_finish_resize", host=HOST)

    assert resize_host.recover_host(HOST) == {"rolled_back": 1, "finished": 0}
    instance.refresh_from_db()
    assert (instance.status, instance.memory_mb, instance.power_state) == ("ACTIVE", 256, states.power.RUNNING)
    assert "stopped during compute_finish_resize" in InstanceFault.objects.filter(
        instance=instance).latest("created_at").message
    assert not resize_host.resize_dir(instance).exists() and not InstanceResize.objects.exists()
    assert _usage_matches_claims().memory_mb_used == 256
    # the message that comes back (late ack) finds the resize over
    assert resize_host.finish_resize(instance.uuid, "req-resize") is False


def test_delete_in_verify_resize_leaves_nothing(world, sent):
    instance = _to_verify_resize(world, sent)
    lifecycle.terminate(instance.uuid, "req-del", HOST)
    instance = Instance.all_objects.get(pk=instance.pk)
    assert instance.deleted_at is not None
    assert not resize_host.resize_dir(instance).exists() and not host_resources.instance_dir(instance).exists()
    assert not InstanceResize.objects.exists() and not Claim.objects.exists()
    node = ComputeNode.objects.get(host=HOST)
    assert (node.memory_mb_used, node.vcpus_used, node.local_gb_used, node.num_instances) == (0, 0, 0, 0)
    assert (_in_use(world["project"], "cores"), _in_use(world["project"], "ram"), _in_use(
        world["project"], "instances")) == (0, 0, 0)


def test_automatic_confirm_after_the_window(world, sent, settings):
    from datetime import timedelta

    from django.utils import timezone

    instance = _to_verify_resize(world, sent)
    settings.RESIZE_CONFIRM_WINDOW = 0
    assert resize.confirm_expired() == 0
    settings.RESIZE_CONFIRM_WINDOW = 60
    assert resize.confirm_expired() == 0  # not yet
    assert resize.confirm_expired(now=timezone.now() + timedelta(seconds=61)) == 1
    _deliver(sent, names.RESIZE_STEP_TASKS["confirm_on_source"])
    instance.refresh_from_db()
    assert instance.status == "ACTIVE" and instance.memory_mb == 1024
    assert InstanceAction.objects.filter(instance=instance, action="confirmResize").exists()
    _usage_matches_claims()


def test_requests_refused(world, sent):
    instance, ctx = world["instance"], world["ctx"]
    with pytest.raises(Invalid, match="must change flavor"):
        resize.resize_server(ctx, instance, world["small"])
    tiny = Flavor.objects.create(flavorid="rs0", name="rs.nodisk", memory_mb=128, vcpus=1, root_gb=0)
    with pytest.raises(Invalid, match="smaller disk"):
        resize.resize_server(ctx, instance, tiny)
    with pytest.raises(Conflict, match="no resize to confirm"):
        instances.update_state(instance, vm_state=states.RESIZED)
        resize.confirm_resize(ctx, instance)
    instances.update_state(instance, vm_state=states.ACTIVE)
    quotas.set_quota(world["project"], "ram", 512)
    with pytest.raises(OverQuota):
        resize.resize_server(ctx, instance, world["big"])
    instance.refresh_from_db()
    assert (instance.status, instance.task_state) == ("ACTIVE", None)
    assert not InstanceResize.objects.exists() and not sent
