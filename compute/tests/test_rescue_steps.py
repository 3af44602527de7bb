"""Rescue and unrescue on libvirt's test driver, in this process (real domain definitions and
qcow2 files): the rescue domain boots the rescue disk with the server's own disk second, a
failed rescue puts the server's own domain back, unrescue and delete leave no rescue disk."""
import pytest

from cloudproj import task_names as names
from compute import states
from compute.models import InstanceAction, InstanceFault
from compute.services import host_resources, lifecycle, rescue, rescue_host
from compute.tests import test_resize_steps as _resize_steps
from compute.virt import volume_attach
from compute.virt.driver import DriverError

pytestmark = pytest.mark.django_db

T = states.task
# the booted server (libvirt's test driver) and the captured sends of the resize steps' tests
world, sent = _resize_steps.world, _resize_steps.sent


def _disks(instance):
    xml = host_resources.driver()._dom_call("XMLDesc", str(instance.uuid), lambda d: d.XMLDesc(0))
    return {target: path for target, (path, _xml) in volume_attach.disks(xml).items()}


def _run(sent, instance, action):
    (message,) = [entry for entry in sent if entry[0] == names.INSTANCE_ACTION]
    sent.remove(message)
    _name, (uuid, request_id, sent_action, params), queue = message
    assert (sent_action, queue) == (action, f"compute.{instance.host}")
    return lifecycle.run_action(uuid, request_id, action, params)


def test_rescue_then_unrescue(world, sent):
    instance = world["instance"]
    own = str(host_resources.disk_path(instance))
    rescue.rescue_server(world["ctx"], instance, None)
    assert instance.task_state == T.RESCUING
    assert _run(sent, instance, "rescue")
    instance.refresh_from_db()
    assert (instance.status, instance.power_state) == ("RESCUE", states.power.RUNNING)
    assert _disks(instance) == {"vda": str(rescue_host.rescue_disk_path(instance)), "vdb": own}
    assert rescue_host.rescue_disk_path(instance).is_file()
    # in RESCUE only unrescue (and delete) go
    with pytest.raises(states.InstanceInvalidState):
        rescue.rescue_server(world["ctx"], instance, None)

    rescue.unrescue_server(world["ctx"], instance)
    assert instance.task_state == T.UNRESCUING
    assert _run(sent, instance, "unrescue")
    instance.refresh_from_db()
    assert (instance.status, instance.power_state) == ("ACTIVE", states.power.RUNNING)
    assert _disks(instance) == {"vda": own}
    assert not rescue_host.rescue_disk_path(instance).exists()
    events = {(a, e) for a, e in InstanceAction.objects.filter(instance=instance).values_list(
        "action", "events__event") if e}
    assert {("rescue", "compute_rescue"), ("unrescue", "compute_unrescue")} <= events


def test_a_failed_rescue_puts_the_server_back(world, sent, monkeypatch):
    instance = world["instance"]
    drv = host_resources.driver()
    real_spawn = drv.spawn

    def spawn(spec, timeout=60.0):
        if spec.disk_path.endswith(rescue.RESCUE_DISK):
            raise DriverError("the rescue domain did not start (injected)")
        return real_spawn(spec, timeout)

    monkeypatch.setattr(drv, "spawn", spawn)
    rescue.rescue_server(world["ctx"], instance, None)
    assert _run(sent, instance, "rescue") is False
    instance.refresh_from_db()
    assert (instance.status, instance.task_state, instance.power_state) == ("ACTIVE", None, states.power.RUNNING)
    assert _disks(instance) == {"vda": str(host_resources.disk_path(instance))}
    assert not rescue_host.rescue_disk_path(instance).exists()
    assert "injected" in InstanceFault.objects.filter(instance=instance).latest("created_at").message


def test_delete_of_a_rescued_server_leaves_nothing(world, sent):
    instance = world["instance"]
    rescue.rescue_server(world["ctx"], instance, None)
    _run(sent, instance, "rescue")
    assert lifecycle.terminate(instance.uuid, "req-del", instance.host)
    assert not host_resources.instance_dir(instance).exists()
    assert not [n for n in host_resources.driver().list_instances() if n == instance.name]
