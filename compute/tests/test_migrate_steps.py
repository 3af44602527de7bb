"""Cold migration, resize to another host and evacuation, step by step in this process between two hosts
simulated as two machines would be: each host its own libvirt test-driver node (its own
domains), its own INSTANCES_PATH and image cache; the disk (a real qcow2 overlay, real
qemu-img) travels through the shared image store. Each step runs as the host its message
is addressed to. Checked as a user and an operator would: status, host, flavor, the domain
on each host, the files in each instances folder, the claims on each node, os-migrations
rows, and the rollback of every failure (nothing left on the target)."""
from contextlib import contextmanager

import pytest

from cloudproj import rpc
from cloudproj import task_names as names
from cloudproj.celery import app
from cloudproj.exceptions import Conflict, Invalid
from cloudproj.host import identity
from cloudproj.testing.cloud import node_xml
from cloudproj.testing.factories import Ctx, make_host, make_project_user
from compute import states
from compute.models import Claim, ComputeNode, Flavor, Instance, InstanceAction, InstanceFault, InstanceResize, Migration
from compute.scheduler.claims import usage_from_claims
from compute.models import Service
from compute.services import (
    build, disk_transfer, evacuate, evacuate_host, host_resources, instances, lifecycle, resize, resize_host,
)
from compute.virt.driver import DriverError
from images.drivers import qemu_img
from images.services.registry import register_image
from network.models import FixedIP

pytestmark = pytest.mark.django_db

A, B = "mig-a", "mig-b"
T = states.task
GiB = 1024**3


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: calls.append((name, args, queue)))
    monkeypatch.setattr(build, "send_host_steps", lambda instance, request_id, first=0: None)
    monkeypatch.setattr(rpc, "_after_commit", lambda name, args, queue: app.send_task(name, args=args, queue=queue))
    return calls


class Hosts:
    """Two simulated machines in this process: `with hosts.on(A): ...` acts as A's agent."""

    def __init__(self, settings, tmp_path, monkeypatch):
        self.settings, self.tmp_path, self.monkeypatch = settings, tmp_path, monkeypatch
        self.drivers = {}
        self.uris = {host: node_xml(tmp_path / f"{host}.xml", 4096, vcpus=4) for host in (A, B)}

    def instances(self, host):
        return self.tmp_path / host / "instances"

    @contextmanager
    def on(self, host):
        s = self.settings
        saved = (s.CLOUD_HOST, s.INSTANCES_PATH, s.IMAGE_CACHE_PATH, s.LIBVIRT_URI, host_resources._driver)
        s.CLOUD_HOST, s.LIBVIRT_URI = host, self.uris[host]
        s.INSTANCES_PATH = self.instances(host)
        s.IMAGE_CACHE_PATH = self.instances(host) / "_base"
        identity.set_current_host(None)
        if host not in self.drivers:
            host_resources._driver = None
            self.drivers[host] = host_resources.driver()
        host_resources._driver = self.drivers[host]
        try:
            yield self.drivers[host]
        finally:
            s.CLOUD_HOST, s.INSTANCES_PATH, s.IMAGE_CACHE_PATH, s.LIBVIRT_URI, host_resources._driver = saved

    def domains(self, host):
        with self.on(host) as drv:
            return [name for name in drv.list_instances() if name.startswith("instance-")]


@pytest.fixture
def world(settings, tmp_path, monkeypatch, sent):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.ALLOW_RESIZE_TO_SAME_HOST = False
    monkeypatch.setattr(host_resources, "_driver", None)
    hosts = Hosts(settings, tmp_path, monkeypatch)
    node_a = make_host(A, vcpus=4, memory_mb=4096, arch="i686", hv_type="TEST")
    project, user = make_project_user("migrator")
    small = Flavor.objects.create(flavorid="mg1", name="mg.small", memory_mb=256, vcpus=1, root_gb=1)
    big = Flavor.objects.create(flavorid="mg2", name="mg.big", memory_mb=1024, vcpus=2, root_gb=2)
    disk = tmp_path / "img.raw"
    disk.write_bytes(b"\1" * 65536)
    image = register_image(disk, "mig-image", disk_format="raw", visibility="public", owner=project)
    from network.services.networks import create_network

    create_network("mignet", "10.239.0.0/28", bridge="cptmig0", host="net-host")
    ctx = Ctx(user, project, request_id="req-boot")
    (instance,) = instances.create_instances(ctx, "moved", small, {"id": str(image.id), "status": "active",
                                                                     "properties": {}})
    build.schedule(instance.uuid, "req-boot")  # only A is up yet
    with hosts.on(A):
        for step in ("allocate_ip", "fetch_image", "spawn"):
            instance.refresh_from_db()
            assert build.run_step(step, instance.uuid, "req-boot", A, build._attempt(instance))
    node_b = make_host(B, vcpus=4, memory_mb=4096, arch="i686", hv_type="TEST")
    instance.refresh_from_db()
    assert (instance.status, instance.host) == ("ACTIVE", A)
    sent.clear()
    admin_user = make_project_user("mig-admin")
    yield {"instance": instance, "small": small, "big": big, "nodes": {A: node_a, B: node_b}, "hosts": hosts,
           "project": project, "ctx": Ctx(user, project, request_id="req-user"),
           "admin": Ctx(admin_user[1], admin_user[0], request_id="req-migrate", is_admin=True)}
    for host in (A, B):
        with hosts.on(host) as drv:
            for name in drv.list_instances():
                drv.destroy(name)


def _deliver(world, sent, expect: str, host: str | None = None) -> None:
    """Run the one captured message named `expect` as the host (or scheduler) it is for."""
    matching = [entry for entry in sent if entry[0] == expect]
    assert len(matching) == 1, sent
    sent.remove(matching[0])
    name, args, queue = matching[0]
    if name == names.PREP_RESIZE:
        assert queue == "scheduler"
        resize.prep_resize(*args)
        return
    if name == names.EVACUATE_SCHEDULE:
        assert queue == "scheduler"
        evacuate.evacuate_schedule(*args)
        return
    if name == names.EVACUATE_SPAWN:
        assert queue == f"compute.{host}"
        with world["hosts"].on(host):
            evacuate_host.evacuate_spawn(*args)
        return
    step = next(key for key, value in names.RESIZE_STEP_TASKS.items() if value == name)
    assert queue == f"compute.{host}", (step, queue)
    with world["hosts"].on(host):
        resize_host.run_step(step, *args)


def _claims(host):
    """(memory, vcpus, instances) used on the node: its claims and resize claims."""
    node = ComputeNode.objects.get(host=host)
    if not InstanceResize.objects.exists():  # nothing in flight: the node's usage is its claims'
        usage = usage_from_claims(node)
        assert (node.vcpus_used, node.memory_mb_used, node.num_instances) == (
            usage["vcpus_used"], usage["memory_mb_used"], usage["num_instances"])
    return node.memory_mb_used, node.vcpus_used, node.num_instances


def _files(world, host, instance):
    folder = world["hosts"].instances(host)
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(instance.name)) if folder.is_dir() else []


def _nothing_but_dhcp(sent):
    """No step left to run: only the network host's DHCP refreshes (its hosts file follows)."""
    assert {(name, queue) for name, _args, queue in sent} <= {("network.refresh_dhcp", "network.net-host")}, sent


def _addresses(instance):
    return list(FixedIP.objects.filter(instance_uuid=instance.uuid, allocated=True).values_list("address", "host"))


def _staged(instance):
    return disk_transfer.transfer_dir(instance).exists()


def _migrate_to_verify(world, sent, host=None):
    instance = world["instance"]
    resize.migrate_server(world["admin"], instance, host)
    instance.refresh_from_db()
    assert (instance.status, instance.task_state) == ("RESIZE", T.RESIZE_PREP)
    _deliver(world, sent, names.PREP_RESIZE)
    assert _claims(B) == (256, 1, 1) and _claims(A) == (256, 1, 1)  # held on both while in flight
    _deliver(world, sent, names.RESIZE_STEP_TASKS["resize_instance"], A)
    assert _staged(instance) and world["hosts"].domains(A) == []
    _deliver(world, sent, names.RESIZE_STEP_TASKS["finish_resize"], B)
    instance.refresh_from_db()
    return instance


def test_cold_migrate_then_revert_then_confirm(world, sent):
    instance, hosts = world["instance"], world["hosts"]
    address = _addresses(instance)
    with hosts.on(A):
        disk_before = host_resources.disk_path(instance).read_bytes()
        (host_resources.instance_dir(instance) / "console.log").write_text("booted on A\n")

    instance = _migrate_to_verify(world, sent)
    assert (instance.status, instance.host, instance.node, instance.flavorid) == ("VERIFY_RESIZE", B, B, "mg1")
    assert _addresses(instance) == [(address[0][0], B)]  # the same address, on the new host
    assert instance.power_state == states.power.RUNNING
    assert hosts.domains(B) == [instance.name] and hosts.domains(A) == []
    assert _files(world, A, instance) == [instance.name + "_resize"]  # kept for a revert
    assert _files(world, B, instance) == [instance.name]
    assert not _staged(instance)  # the target took it
    with hosts.on(B):
        moved = host_resources.disk_path(instance)
        assert moved.read_bytes() != b"" and (moved.parent / "console.log").read_text() == "booted on A\n"
        info = qemu_img.info(moved, fmt="qcow2")
        assert str(hosts.instances(B) / "_base") in info["backing-filename"]  # B's own base
        assert info["virtual-size"] == GiB
    migration = Migration.objects.get(instance_uuid=instance.uuid)
    assert (migration.migration_type, migration.status, migration.source_compute, migration.dest_compute) == (
        "migration", "finished", A, B)

    resize.revert_resize(world["ctx"], instance)
    _deliver(world, sent, names.RESIZE_STEP_TASKS["revert_on_dest"], B)
    _deliver(world, sent, names.RESIZE_STEP_TASKS["finish_revert"], A)
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.power_state) == ("ACTIVE", A, states.power.RUNNING)
    assert _addresses(instance) == address
    assert hosts.domains(A) == [instance.name] and hosts.domains(B) == []
    assert _files(world, A, instance) == [instance.name] and _files(world, B, instance) == []
    with hosts.on(A):
        assert host_resources.disk_path(instance).read_bytes() == disk_before
    assert _claims(A) == (256, 1, 1) and _claims(B) == (0, 0, 0)
    assert Migration.objects.get(instance_uuid=instance.uuid).status == "reverted"

    instance = _migrate_to_verify(world, sent)
    resize.confirm_resize(world["ctx"], instance)
    _deliver(world, sent, names.RESIZE_STEP_TASKS["confirm_on_source"], A)
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.memory_mb) == ("ACTIVE", B, 256)
    assert _addresses(instance) == [(address[0][0], B)]
    assert _files(world, A, instance) == [] and _files(world, B, instance) == [instance.name]
    assert hosts.domains(A) == [] and hosts.domains(B) == [instance.name]
    assert _claims(A) == (0, 0, 0) and _claims(B) == (256, 1, 1)
    assert Claim.objects.get(instance=instance).host == B
    assert not InstanceResize.objects.exists() and not _staged(instance)
    rows = Migration.objects.filter(instance_uuid=instance.uuid).order_by("id")
    assert [(m.status, m.source_compute, m.dest_compute) for m in rows] == [("reverted", A, B), ("confirmed", A, B)]
    actions = list(InstanceAction.objects.filter(instance=instance).values_list("action", flat=True))
    assert actions.count("migrate") == 2 and "revertResize" in actions and "confirmResize" in actions
    _nothing_but_dhcp(sent)


def test_resize_to_another_host_grows_the_moved_disk(world, sent):
    instance, hosts = world["instance"], world["hosts"]
    resize.resize_server(world["ctx"], instance, world["big"])
    _deliver(world, sent, names.PREP_RESIZE)
    _deliver(world, sent, names.RESIZE_STEP_TASKS["resize_instance"], A)
    _deliver(world, sent, names.RESIZE_STEP_TASKS["finish_resize"], B)
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.memory_mb) == ("VERIFY_RESIZE", B, 1024)
    with hosts.on(B) as drv:
        assert drv.get_info(str(instance.uuid)).max_mem_kb // 1024 == 1024
        assert qemu_img.info(host_resources.disk_path(instance), fmt="qcow2")["virtual-size"] == 2 * GiB
    assert _claims(A) == (256, 1, 1) and _claims(B) == (1024, 2, 1)
    resize.confirm_resize(world["ctx"], instance)
    _deliver(world, sent, names.RESIZE_STEP_TASKS["confirm_on_source"], A)
    assert _claims(A) == (0, 0, 0) and _claims(B) == (1024, 2, 1)
    migration = Migration.objects.get(instance_uuid=instance.uuid)
    assert (migration.migration_type, migration.status, migration.dest_compute) == ("resize", "confirmed", B)


def test_a_failure_on_the_target_leaves_the_guest_running_on_the_source(world, sent, monkeypatch):
    instance, hosts = world["instance"], world["hosts"]
    address = _addresses(instance)
    resize.migrate_server(world["admin"], instance)
    _deliver(world, sent, names.PREP_RESIZE)
    _deliver(world, sent, names.RESIZE_STEP_TASKS["resize_instance"], A)

    def refuse(spec, timeout=None):
        raise DriverError("the target's hypervisor refused the domain")

    with hosts.on(B) as drv:
        monkeypatch.setattr(drv, "spawn", refuse)
    _deliver(world, sent, names.RESIZE_STEP_TASKS["finish_resize"], B)
    assert not _files(world, B, instance) and hosts.domains(B) == [] and not _staged(instance)
    assert _claims(B) == (0, 0, 0)
    _deliver(world, sent, names.RESIZE_STEP_TASKS["finish_revert"], A)  # the source takes it back
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.power_state) == ("ACTIVE", A, states.power.RUNNING)
    assert hosts.domains(A) == [instance.name] and _files(world, A, instance) == [instance.name]
    assert _addresses(instance) == address
    assert _claims(A) == (256, 1, 1) and not InstanceResize.objects.exists()
    assert "refused the domain" in InstanceFault.objects.filter(instance=instance).latest("id").message
    assert Migration.objects.get(instance_uuid=instance.uuid).status == "error"
    _nothing_but_dhcp(sent)


def test_a_failure_to_stage_the_disk_leaves_the_guest_on_the_source(world, sent, monkeypatch):
    instance = world["instance"]
    resize.migrate_server(world["admin"], instance)
    _deliver(world, sent, names.PREP_RESIZE)

    def full(instance, source_dir):
        disk_transfer.transfer_dir(instance).mkdir(parents=True)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(disk_transfer, "stage", full)
    _deliver(world, sent, names.RESIZE_STEP_TASKS["resize_instance"], A)
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.power_state) == ("ACTIVE", A, states.power.RUNNING)
    assert _files(world, A, instance) == [instance.name] and not _staged(instance)
    assert _claims(B) == (0, 0, 0)
    _nothing_but_dhcp(sent)


def test_migrate_to_a_named_host_and_the_refusals(world, sent):
    instance = world["instance"]
    with pytest.raises(Invalid, match="could not be found"):
        resize.migrate_server(world["admin"], instance, "nowhere")
    with pytest.raises(Invalid, match="can't be the same"):
        resize.migrate_server(world["admin"], instance, A)
    instance = _migrate_to_verify(world, sent, host=B)
    assert instance.host == B
    with pytest.raises(Conflict):
        resize.migrate_server(world["admin"], instance)  # VERIFY_RESIZE first


def test_no_other_host_fits_the_server_stays(world, sent):
    instance = world["instance"]
    instances.update_state(instance)  # unchanged
    ComputeNode.objects.filter(host=B).update(memory_mb=128)
    resize.migrate_server(world["admin"], instance)
    _deliver(world, sent, names.PREP_RESIZE)
    instance.refresh_from_db()
    assert (instance.status, instance.host) == ("ACTIVE", A)
    assert "No valid host" in InstanceFault.objects.filter(instance=instance).latest("id").message
    assert Migration.objects.get(instance_uuid=instance.uuid).status == "error"
    _nothing_but_dhcp(sent)


def test_evacuate_rebuilds_on_another_host_and_the_source_cleans_up_when_it_returns(world, sent):
    instance, hosts = world["instance"], world["hosts"]
    address = _addresses(instance)
    with pytest.raises(Invalid, match="still in use"):
        evacuate.evacuate_server(world["admin"], instance)
    Service.objects.filter(host=A, binary="nova-compute").update(forced_down=True)  # A died
    evacuate.evacuate_server(world["admin"], instance)
    instance.refresh_from_db()
    assert (instance.status, instance.task_state) == ("REBUILD", T.REBUILDING)
    _deliver(world, sent, names.EVACUATE_SCHEDULE)
    _deliver(world, sent, names.EVACUATE_SPAWN, B)
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.power_state) == ("ACTIVE", B, states.power.RUNNING)
    assert _addresses(instance) == [(address[0][0], B)]
    assert hosts.domains(B) == [instance.name] and _files(world, B, instance) == [instance.name]
    assert _claims(A) == (0, 0, 0) and _claims(B) == (256, 1, 1)
    migration = Migration.objects.get(instance_uuid=instance.uuid)
    assert (migration.migration_type, migration.status, migration.source_compute, migration.dest_compute) == (
        "evacuation", "done", A, B)
    assert InstanceAction.objects.get(instance=instance, action="evacuate").message is None
    # the dead host still has the old domain and disk (its agent did not run): they go when it comes back
    assert hosts.domains(A) == [instance.name] and _files(world, A, instance) == [instance.name]
    Service.objects.filter(host=A, binary="nova-compute").update(forced_down=False)
    with hosts.on(A):
        assert evacuate_host.destroy_evacuated(A) == 1
    assert hosts.domains(A) == [] and _files(world, A, instance) == []
    assert hosts.domains(B) == [instance.name]  # never the new host's guest
    assert Migration.objects.get(instance_uuid=instance.uuid).status == "completed"
    _nothing_but_dhcp(sent)


def test_a_failed_evacuation_leaves_nothing_on_the_target(world, sent, monkeypatch):
    instance, hosts = world["instance"], world["hosts"]
    address = _addresses(instance)
    Service.objects.filter(host=A, binary="nova-compute").update(forced_down=True)

    def refuse(spec, timeout=None):
        raise DriverError("the target's hypervisor refused the domain")

    with hosts.on(B) as drv:
        monkeypatch.setattr(drv, "spawn", refuse)
    evacuate.evacuate_server(world["admin"], instance, B)
    _deliver(world, sent, names.EVACUATE_SCHEDULE)
    _deliver(world, sent, names.EVACUATE_SPAWN, B)
    instance.refresh_from_db()
    assert (instance.status, instance.host) == ("ERROR", A)
    assert "refused the domain" in InstanceFault.objects.filter(instance=instance).latest("id").message
    assert hosts.domains(B) == [] and _files(world, B, instance) == []
    assert _addresses(instance) == address
    assert _claims(B) == (0, 0, 0) and Claim.objects.get(instance=instance).host == A
    assert Migration.objects.get(instance_uuid=instance.uuid).status == "failed"


def test_evacuate_with_no_other_host_fails_with_a_fault(world, sent):
    instance = world["instance"]
    Service.objects.filter(host=A, binary="nova-compute").update(forced_down=True)
    Service.objects.filter(host=B, binary="nova-compute").update(disabled=True)
    evacuate.evacuate_server(world["admin"], instance)
    _deliver(world, sent, names.EVACUATE_SCHEDULE)
    instance.refresh_from_db()
    assert (instance.status, instance.host) == ("ERROR", A)
    assert "No valid host" in InstanceFault.objects.filter(instance=instance).latest("id").message
    assert Claim.objects.get(instance=instance).host == A and _claims(B) == (0, 0, 0)
    assert Migration.objects.get(instance_uuid=instance.uuid).status == "failed"
    with pytest.raises(Invalid, match="could not be found"):
        evacuate.evacuate_server(world["admin"], instance, "nowhere")


def test_delete_in_verify_resize_on_the_target_cleans_the_source_too(world, sent):
    instance, hosts = world["instance"], world["hosts"]
    instance = _migrate_to_verify(world, sent)
    with hosts.on(B):
        lifecycle.terminate(instance.uuid, "req-del", B)
    instance = Instance.all_objects.get(pk=instance.pk)
    assert instance.deleted_at is not None
    assert _files(world, B, instance) == [] and hosts.domains(B) == []
    assert _files(world, A, instance) == [instance.name + "_resize"]  # on the other machine: its agent's job
    _deliver(world, sent, names.RESIZE_STEP_TASKS["clean_source"], A)
    assert _files(world, A, instance) == [] and hosts.domains(A) == []
    assert not InstanceResize.objects.exists() and not Claim.objects.exists()
    assert _claims(A) == (0, 0, 0) and _claims(B) == (0, 0, 0)
    assert not FixedIP.objects.filter(instance_uuid=instance.uuid).exists()
    assert Migration.objects.get(instance_uuid=instance.uuid).status == "confirmed"
