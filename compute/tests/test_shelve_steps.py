"""Shelve, shelve-offload and unshelve on libvirt's test driver, in this process (real qcow2
files, the image store, the claims): the shelved image holds the disk, an offloaded server
holds no host, no claim and no files but keeps its address, and comes back with its disk from
the image; a failed unshelve leaves it offloaded with nothing held. Sends are captured and run
here."""
import pytest

from cloudproj import task_names as names
from compute import states
from compute.models import Claim, ComputeNode, InstanceFault
from compute.services import host_resources, lifecycle, shelve, shelve_host
from compute.tests import test_resize_steps as _resize_steps
from compute.virt.driver import DriverError
from images.models import Image
from network.models import FixedIP

pytestmark = pytest.mark.django_db

T = states.task
HOST = _resize_steps.HOST
# the booted server (libvirt's test driver) and the captured sends of the resize steps' tests
world, sent = _resize_steps.world, _resize_steps.sent


def _deliver(sent, expect):
    matching = [entry for entry in sent if entry[0] == expect]
    assert len(matching) == 1, sent
    sent.remove(matching[0])
    name, args, queue = matching[0]
    if name == names.INSTANCE_ACTION:
        return lifecycle.run_action(*args)
    if name == names.UNSHELVE_SCHEDULE:
        assert queue == "scheduler"
        return shelve.unshelve_schedule(*args)
    assert (name, queue) == (names.UNSHELVE_SPAWN, f"compute.{HOST}")
    return shelve_host.unshelve_spawn(*args)


def _shelve_and_offload(world, sent, settings, immediately=True):
    settings.SHELVE_OFFLOAD_IMMEDIATELY = immediately
    instance = world["instance"]
    image = shelve.shelve_server(world["ctx"], instance)
    assert instance.task_state == T.SHELVING and image.status == Image.QUEUED
    assert _deliver(sent, names.INSTANCE_ACTION)
    instance.refresh_from_db()
    image.refresh_from_db()
    assert image.status == Image.ACTIVE and image.properties["shelved_instance"] == str(instance.uuid)
    return instance, image


def test_shelve_offloads_and_unshelve_brings_it_back(world, sent, settings):
    address = FixedIP.objects.get(instance_uuid=world["instance"].uuid).address
    instance, image = _shelve_and_offload(world, sent, settings)
    assert (instance.status, instance.host, instance.power_state) == ("SHELVED_OFFLOADED", None, states.power.NOSTATE)
    assert not Claim.objects.exists() and ComputeNode.objects.get(host=HOST).memory_mb_used == 0
    assert not host_resources.instance_dir(instance).exists()
    assert instance.name not in host_resources.driver().list_instances()
    assert FixedIP.objects.get(instance_uuid=instance.uuid).address == address  # kept while offloaded

    shelve.unshelve_server(world["ctx"], instance)
    assert instance.task_state == T.UNSHELVING
    assert _deliver(sent, names.UNSHELVE_SCHEDULE) == HOST
    assert _deliver(sent, names.UNSHELVE_SPAWN)
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.power_state) == ("ACTIVE", HOST, states.power.RUNNING)
    claim = Claim.objects.get(instance=instance)
    assert (claim.host, claim.memory_mb) == (HOST, 256)
    assert FixedIP.objects.get(instance_uuid=instance.uuid).address == address
    image.refresh_from_db()
    assert image.deleted_at is not None  # the shelved image is gone once the server is back


def test_shelve_without_offload_then_offload_and_unshelve_in_place(world, sent, settings):
    instance, image = _shelve_and_offload(world, sent, settings, immediately=False)
    assert (instance.status, instance.host) == ("SHELVED", HOST)
    assert Claim.objects.filter(instance=instance).exists()
    shelve.unshelve_server(world["ctx"], instance)
    assert _deliver(sent, names.INSTANCE_ACTION)
    instance.refresh_from_db()
    assert (instance.status, instance.power_state) == ("ACTIVE", states.power.RUNNING)

    shelve.shelve_server(world["ctx"], instance)
    _deliver(sent, names.INSTANCE_ACTION)
    instance.refresh_from_db()
    assert instance.status == "SHELVED"
    shelve.shelve_offload_server(world["ctx"], instance)
    assert instance.task_state == T.SHELVING_OFFLOADING
    _deliver(sent, names.INSTANCE_ACTION)
    instance.refresh_from_db()
    assert (instance.status, instance.host) == ("SHELVED_OFFLOADED", None) and not Claim.objects.exists()


def test_a_failed_unshelve_leaves_it_offloaded_with_nothing_held(world, sent, settings, monkeypatch):
    instance, image = _shelve_and_offload(world, sent, settings)
    drv = host_resources.driver()

    def spawn(spec, timeout=60.0):
        raise DriverError("the host refused the domain (injected)")

    monkeypatch.setattr(drv, "spawn", spawn)
    shelve.unshelve_server(world["ctx"], instance)
    _deliver(sent, names.UNSHELVE_SCHEDULE)
    assert _deliver(sent, names.UNSHELVE_SPAWN) is False
    instance.refresh_from_db()
    assert (instance.status, instance.task_state, instance.host) == ("SHELVED_OFFLOADED", None, None)
    assert "injected" in InstanceFault.objects.filter(instance=instance).latest("created_at").message
    assert not Claim.objects.exists() and ComputeNode.objects.get(host=HOST).memory_mb_used == 0
    assert not host_resources.instance_dir(instance).exists()
    image.refresh_from_db()
    assert image.status == Image.ACTIVE  # kept: the next unshelve needs it


def test_delete_of_an_offloaded_server_deletes_its_image(world, sent, settings, django_capture_on_commit_callbacks):
    from compute.services import operations

    instance, image = _shelve_and_offload(world, sent, settings)
    with django_capture_on_commit_callbacks(execute=True):
        operations.delete_server(world["ctx"], instance)
    image.refresh_from_db()
    assert instance.deleted_at is not None and image.deleted_at is not None
    assert not FixedIP.objects.filter(instance_uuid=instance.uuid).exists()
