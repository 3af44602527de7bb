"""Kill -9 an agent in the middle of a cold migration between two agents (two hosts: own
host names, instances folders and queues; scheduler and agents on libvirt's test driver, real
Redis, PostgreSQL, bridge and dnsmasq), then start it again, as test_resize_kill.py does for a
resize on one host. The agent is held inside the step by FAULT_INJECT_PAUSE after the step's
work is done: the source once it staged the disk, the target once the guest runs there. When
it comes back, the migration is rolled back: the server ACTIVE and running on the source with
a fault naming the interruption, no claim, file, staged disk or domain left on the target, the
os-migrations row in error; once deleted nothing is left on either host."""
import pytest

from cloudproj.testing.cloud import node_xml
from cloudproj.testing.pipeline import assert_nothing_leaked, boot, delete, gone, settled
from compute import states
from compute.models import ComputeNode, Instance, InstanceFault, InstanceResize, Migration
from compute.services import disk_transfer, resize

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SOURCE, TARGET = "flt-mig-a", "flt-mig-b"


def _start_agent(cloud, tmp_path, host, **env):
    cloud.start_agent(host, LIBVIRT_URI=node_xml(tmp_path / f"{host}.xml", 8192), **env)


@pytest.mark.parametrize("point, killed", [("resize_instance", SOURCE), ("finish_resize", TARGET)])
def test_kill_during_a_migration_step_then_restart(cloud, world, tmp_path, settings, point, killed):
    world["network"].host = SOURCE  # one dnsmasq on the bridge: the source's
    world["network"].save(update_fields=["host"])
    cloud.start_scheduler(concurrency=2)
    _start_agent(cloud, tmp_path, SOURCE, **({"FAULT_INJECT_PAUSE": point} if killed == SOURCE else {}))
    cloud.wait_up([SOURCE])
    (server,) = boot(world, f"mig-{point}")
    cloud.wait(lambda: settled([server.uuid]), 90, "the server to boot")
    _start_agent(cloud, tmp_path, TARGET, **({"FAULT_INJECT_PAUSE": point} if killed == TARGET else {}))
    cloud.wait_up([SOURCE, TARGET])
    server = Instance.objects.get(pk=server.pk)
    assert (server.vm_state, server.host) == (states.ACTIVE, SOURCE)

    world["ctx"].request_id = f"req-migrate-{point}"
    resize.migrate_server(world["ctx"], server)
    marker = cloud.markers / f"{point}-{server.uuid}"
    cloud.wait(marker.exists, 90, f"the agent of {killed} to be held in {point}")
    cloud.kill(f"agent-{killed}")
    row = Instance.objects.get(pk=server.pk)
    assert row.status == "RESIZE" and InstanceResize.objects.filter(instance=row).exists()

    _start_agent(cloud, tmp_path, killed)
    cloud.wait(lambda: settled([server.uuid]), 120, f"the migration to be rolled back after a kill in {point}")
    row = Instance.objects.get(pk=server.pk)
    assert (row.vm_state, row.host, row.power_state) == (states.ACTIVE, SOURCE, states.power.RUNNING)
    faults = InstanceFault.objects.filter(instance=row).values_list("message", flat=True)
    assert any(f"stopped during compute_{point}" in message for message in faults), list(faults)
    assert not InstanceResize.objects.exists()
    assert Migration.objects.get(instance_uuid=row.uuid).status == "error"
    assert ComputeNode.objects.get(host=TARGET).memory_mb_used == 0
    assert ComputeNode.objects.get(host=SOURCE).memory_mb_used == 512
    assert [d["name"] for d in cloud.list_domains(SOURCE) if d["name"] == row.name] == [row.name]
    assert not [d for d in cloud.list_domains(TARGET) if d["name"] == row.name]
    for host in (SOURCE, TARGET):
        folder = cloud.state_path(host) / "instances"
        names = sorted(p.name for p in folder.iterdir() if p.name.startswith("instance-")) if folder.is_dir() else []
        assert names == ([row.name] if host == SOURCE else []), (host, names)
    assert not disk_transfer.transfer_dir(row).exists()

    delete(world, row)
    cloud.wait(lambda: gone([server.uuid]), 60, "the server to be deleted")
    assert_nothing_leaked(world, cloud, [SOURCE, TARGET])
