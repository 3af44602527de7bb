"""Kill -9 the agent in the middle of a resize step, then start it again (real processes:
scheduler and agent on libvirt's test driver, real Redis, PostgreSQL, bridge and dnsmasq), as
test_agent_kill.py does for the boot steps. The agent is held inside the step by
FAULT_INJECT_PAUSE after the step's work is done. When it comes back, the resize is rolled
back: the server ACTIVE on its old flavor with a fault naming the interruption, no resize
claim, no set-aside directory; once deleted nothing is left."""
import pytest

from cloudproj.testing.cloud import node_xml
from cloudproj.testing.pipeline import assert_nothing_leaked, boot, delete, gone, settled
from compute import states
from compute.models import ComputeNode, Flavor, Instance, InstanceFault, InstanceResize
from compute.scheduler.claims import usage_from_claims
from compute.services import resize

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "flt-rsz"


def _start_agent(cloud, tmp_path, **env):
    cloud.start_agent(HOST, LIBVIRT_URI=node_xml(tmp_path / "flt-rsz.xml", 8192), **env)


@pytest.mark.parametrize("point", ["resize_instance", "finish_resize"])
def test_kill_during_a_resize_step_then_restart(cloud, world, tmp_path, point):
    world["network"].host = HOST
    world["network"].save(update_fields=["host"])
    cloud.start_scheduler(concurrency=2, ALLOW_RESIZE_TO_SAME_HOST="true")
    _start_agent(cloud, tmp_path, FAULT_INJECT_PAUSE=point)
    cloud.wait_up([HOST])
    (server,) = boot(world, f"rsz-{point}")
    cloud.wait(lambda: settled([server.uuid]), 90, "the server to boot")
    server = Instance.objects.get(pk=server.pk)
    assert server.vm_state == states.ACTIVE

    big = Flavor.objects.create(flavorid=f"flt.big.{point}", name=f"flt.big.{point}", memory_mb=1024, vcpus=2)
    world["ctx"].request_id = f"req-resize-{point}"
    resize.resize_server(world["ctx"], server, big)
    marker = cloud.markers / f"{point}-{server.uuid}"
    cloud.wait(marker.exists, 90, f"the agent to be held in {point}")
    cloud.kill(f"agent-{HOST}")
    row = Instance.objects.get(pk=server.pk)
    assert row.status == "RESIZE" and InstanceResize.objects.filter(instance=row).exists()

    _start_agent(cloud, tmp_path)
    cloud.wait(lambda: settled([server.uuid]), 120, f"the resize to be rolled back after a kill in {point}")
    row = Instance.objects.get(pk=server.pk)
    assert (row.vm_state, row.flavorid, row.memory_mb, row.vcpus) == (states.ACTIVE, world["flavor"].flavorid, 512, 1)
    assert row.power_state == states.power.RUNNING  # started again on the source, old flavor
    faults = InstanceFault.objects.filter(instance=row).values_list("message", flat=True)
    assert any(f"stopped during compute_{point}" in message for message in faults), list(faults)
    assert not InstanceResize.objects.exists()
    node = ComputeNode.objects.get(host=HOST)
    assert usage_from_claims(node)["memory_mb_used"] == node.memory_mb_used == 512
    instances = cloud.state_path(HOST) / "instances"
    assert not [p for p in instances.iterdir() if p.name.endswith("_resize")]

    delete(world, row)
    cloud.wait(lambda: gone([server.uuid]), 60, "the server to be deleted")
    assert_nothing_leaked(world, cloud, [HOST])
