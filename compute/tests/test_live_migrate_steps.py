"""Live migration step by step in this process between two hosts simulated as two machines
(test_migrate_steps.py's world: each host its own libvirt test-driver node, INSTANCES_PATH and
image cache). libvirt's test driver has no migration, so the driver moves the domain's
definition (retargeted to the target's folders) instead of QEMU's memory: every step around it
(claims, the target's disk and network prepared first, the source letting go after, rollback,
abort, os-migrations and the server migrations API) runs for real. The same with real QEMU guests
and two libvirt daemons: test_live_migrate_qemu.py."""
import threading

import pytest
from django.db import connection

from cloudproj import task_names as names
from cloudproj.exceptions import Invalid
from compute import states
from compute.models import InstanceAction, InstanceFault, InstanceResize, Migration, Service
from compute.services import live_migration, live_migration_host
from compute.services.actions import event_start, get_action
from compute.tests import test_migrate_steps as _steps

pytestmark = pytest.mark.django_db

world, sent = _steps.world, _steps.sent
A, B = _steps.A, _steps.B
T = states.task
_claims, _files, _addresses = _steps._claims, _steps._files, _steps._addresses


def _deliver(world, sent, step: str | None, host: str | None = None) -> None:
    """Run the one captured live-migration message (`step` None: the scheduler's) as its host."""
    name = names.LIVE_MIGRATION_SCHEDULE if step is None else names.LIVE_MIGRATION_STEP_TASKS[step]
    matching = [entry for entry in sent if entry[0] == name]
    assert len(matching) == 1, sent
    sent.remove(matching[0])
    _name, args, queue = matching[0]
    if step is None:
        assert queue == "scheduler"
        live_migration.schedule(*args)
        return
    assert queue == f"compute.{host}", (step, queue)
    with world["hosts"].on(host):
        live_migration_host.run_step(step, *args)


def _migration(instance):
    return Migration.objects.get(instance_uuid=instance.uuid, migration_type="live-migration")


def test_live_migration_moves_the_running_guest(world, sent):
    instance, hosts = world["instance"], world["hosts"]
    (address, _host), = _addresses(instance)
    live_migration.live_migrate_server(world["admin"], instance, None)
    instance.refresh_from_db()
    assert (instance.status, instance.task_state) == ("MIGRATING", T.MIGRATING)
    assert _migration(instance).status == "queued"
    _deliver(world, sent, None)
    assert _claims(A) == (256, 1, 1) and _claims(B) == (256, 1, 1)  # held on both while it moves
    assert (_migration(instance).status, _migration(instance).dest_compute) == ("preparing", B)
    _deliver(world, sent, "prepare", B)
    # the target is ready before the guest comes: its disk, and the address recorded there
    assert _files(world, B, instance) == [instance.name] and hosts.domains(B) == []
    assert _addresses(instance) == [(address, B)]
    _deliver(world, sent, "migrate", A)
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.node, instance.task_state) == ("ACTIVE", B, B, None)
    assert instance.power_state == states.power.RUNNING and instance.progress == 100
    assert hosts.domains(B) == [instance.name] and hosts.domains(A) == []
    with hosts.on(B) as drv:
        assert drv.domain_owner(str(instance.uuid)) == B
        xml = drv.conn.lookupByUUIDString(str(instance.uuid)).XMLDesc(0)
        assert str(hosts.instances(B)) in xml and str(hosts.instances(A)) not in xml
    assert _files(world, A, instance) == [] and _files(world, B, instance) == [instance.name]
    assert _claims(A) == (0, 0, 0) and _claims(B) == (256, 1, 1)
    assert _migration(instance).status == "completed" and not InstanceResize.objects.exists()
    assert not live_migration.server_migrations(instance).exists()
    action = InstanceAction.objects.get(instance=instance, action="live-migration")
    assert [e.event for e in action.events.order_by("start_time", "id")] == [
        "compute_check_can_live_migrate_destination", "compute_pre_live_migration", "compute_live_migration",
        "compute_post_live_migration"]
    assert action.finish_time is not None and not InstanceFault.objects.filter(instance=instance).exists()


def test_a_target_that_refuses_leaves_the_guest_on_its_source(world, sent):
    """The target has a foreign domain of the instance's name: libvirt refuses to define it there."""
    instance, hosts = world["instance"], world["hosts"]
    with hosts.on(B) as drv:
        drv.conn.defineXML(f"<domain type='test'><name>{instance.name}</name><memory>65536</memory>"
                           f"<os><type>hvm</type></os></domain>")
    live_migration.live_migrate_server(world["admin"], instance, B)
    _deliver(world, sent, None)
    _deliver(world, sent, "prepare", B)
    _deliver(world, sent, "migrate", A)
    instance.refresh_from_db()
    assert instance.task_state == T.MIGRATING  # until the target has let go
    _deliver(world, sent, "rollback", B)
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.task_state) == ("ACTIVE", A, None)
    assert hosts.domains(A) == [instance.name]
    assert _files(world, B, instance) == [] and _files(world, A, instance) == [instance.name]
    assert _addresses(instance)[0][1] == A
    assert _claims(B) == (0, 0, 0) and _claims(A) == (256, 1, 1)
    assert _migration(instance).status == "error" and not InstanceResize.objects.exists()
    assert "exists" in InstanceFault.objects.get(instance=instance).message
    with hosts.on(B) as drv:  # the foreign domain is not ours to remove
        assert drv.conn.lookupByName(instance.name).name() == instance.name


def test_abort_before_it_runs_cancels_it(world, sent):
    instance, hosts = world["instance"], world["hosts"]
    live_migration.live_migrate_server(world["admin"], instance, None)
    _deliver(world, sent, None)
    _deliver(world, sent, "prepare", B)
    row = _migration(instance)
    live_migration.abort(world["admin"], instance, row.pk)
    _deliver(world, sent, "migrate", A)
    _deliver(world, sent, "rollback", B)
    instance.refresh_from_db()
    assert (instance.status, instance.host) == ("ACTIVE", A) and hosts.domains(A) == [instance.name]
    assert _files(world, B, instance) == [] and _claims(B) == (0, 0, 0)
    assert _migration(instance).status == "cancelled"
    assert not InstanceFault.objects.filter(instance=instance).exists()
    with pytest.raises(Invalid, match="cancelled"):  # over: a second abort is 400
        live_migration.abort(world["admin"], instance, row.pk)


def test_no_valid_target_ends_in_error_on_the_source(world, sent):
    instance = world["instance"]
    Service.objects.filter(host=B, binary="nova-compute").update(forced_down=True)  # the only other host
    live_migration.live_migrate_server(world["admin"], instance, None)
    _deliver(world, sent, None)
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.task_state) == ("ACTIVE", A, None)
    assert _migration(instance).status == "error" and not InstanceResize.objects.exists()
    assert "No valid host" in InstanceFault.objects.get(instance=instance).message
    assert not [entry for entry in sent if entry[0].startswith("compute.live_migration")]


def test_live_migration_to_its_own_host_is_400(world, sent):
    with pytest.raises(Invalid, match="can't be the same"):
        live_migration.live_migrate_server(world["admin"], world["instance"], A)
    assert not sent



@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ask", ["abort", "force_complete"])
def test_an_admin_aborts_or_forces_a_running_live_migration(world, sent, settings, tmp_path, admin_client, ask):
    """The source's migrate step is held at its first progress report (FAULT_INJECT_PAUSE) while
    the admin asks through the API, as it would be while libvirt copies."""
    instance, hosts = world["instance"], world["hosts"]
    settings.FAULT_INJECT_PAUSE, settings.FAULT_INJECT_DIR = ["live_migration"], str(tmp_path)
    marker = tmp_path / f"live_migration-{instance.uuid}"
    live_migration.live_migrate_server(world["admin"], instance, None)
    _deliver(world, sent, None)
    _deliver(world, sent, "prepare", B)
    (name, args, _queue), = [entry for entry in sent if entry[0] == names.LIVE_MIGRATION_STEP_TASKS["migrate"]]
    sent.clear()

    def source():
        try:
            with hosts.on(A):
                live_migration_host.run_step("migrate", *args)
        finally:
            connection.close()

    worker = threading.Thread(target=source)
    worker.start()
    try:
        for _ in range(300):
            if marker.exists():
                break
            worker.join(0.1)
        assert marker.exists(), "the source never reported progress"
        url = f"/compute/v2.1/servers/{instance.uuid}/migrations"
        latest = {"HTTP_OPENSTACK_API_VERSION": "compute latest"}
        (row,) = admin_client.get(url, **latest).json()["migrations"]
        assert (row["status"], row["dest_compute"]) == ("running", B)
        if ask == "abort":
            assert admin_client.delete(f"{url}/{row['id']}", **latest).status_code == 202
        else:
            response = admin_client.post(f"{url}/{row['id']}/action", {"force_complete": None}, format="json",
                                         **latest)
            assert response.status_code == 202
    finally:
        marker.unlink(missing_ok=True)
        worker.join(30)
    instance.refresh_from_db()
    if ask == "abort":
        _deliver(world, sent, "rollback", B)
        instance.refresh_from_db()
        assert (instance.status, instance.host, _migration(instance).status) == ("ACTIVE", A, "cancelled")
        assert hosts.domains(A) == [instance.name] and hosts.domains(B) == []
        assert not InstanceFault.objects.filter(instance=instance).exists()
    else:  # the test driver has nothing to pause: the copy simply completes
        assert (instance.status, instance.host, _migration(instance).status) == ("ACTIVE", B, "completed")
    assert admin_client.get(f"/compute/v2.1/servers/{instance.uuid}/migrations",
                            HTTP_OPENSTACK_API_VERSION="compute latest").json()["migrations"] == []


@pytest.mark.parametrize("moved", [False, True])
def test_an_agent_that_died_during_the_migration_settles_it_at_start(world, sent, moved):
    """The source's agent died inside the migrate step (its event left open); at its start the
    guest is found still on the source (libvirt cancels a migration whose client went away:
    rolled back) or already on the target (completed)."""
    instance, hosts = world["instance"], world["hosts"]
    live_migration.live_migrate_server(world["admin"], instance, None)
    _deliver(world, sent, None)
    _deliver(world, sent, "prepare", B)
    sent.clear()  # the migrate message: its worker died with it
    record = InstanceResize.objects.get(instance=instance)
    event_start(get_action(instance, record.request_id), "compute_live_migration", host=A)
    if moved:  # libvirt finished the move before the agent died
        with hosts.on(A) as drv:
            drv.live_migrate(str(instance.uuid), record.live["uri"], {str(hosts.instances(A)): record.live["instances"]},
                             B)
    with hosts.on(A):
        counts = live_migration_host.recover_host(A)
    if moved:
        assert counts == {"rolled_back": 0, "completed": 1}
    else:
        assert counts == {"rolled_back": 1, "completed": 0}
        _deliver(world, sent, "rollback", B)
    instance.refresh_from_db()
    assert (instance.status, instance.host, instance.task_state) == ("ACTIVE", B if moved else A, None)
    assert _migration(instance).status == ("completed" if moved else "error")
    assert hosts.domains(B if moved else A) == [instance.name] and hosts.domains(A if moved else B) == []
    assert _claims(A if moved else B) == (0, 0, 0) and not InstanceResize.objects.exists()
