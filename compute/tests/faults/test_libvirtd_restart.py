"""libvirtd restarts while a host agent runs: the agent reconnects by itself. The daemon is
a private libvirtd (user nobody, its own socket, its test hypervisor reached through the
remote driver as qemu:///system is): the system libvirtd serves other runs and is never
restarted here (compute/tests/test_virt_qemu.py has the opt-in system variant)."""
import pytest

from cloudproj.testing.pipeline import boot, delete, gone, settled
from compute import states
from compute.models import Instance

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "flt-lv1"


def test_agent_reconnects_after_libvirtd_restart(cloud, world, private_libvirtd):
    world["network"].host = HOST
    world["network"].save(update_fields=["host"])
    cloud.start_scheduler(concurrency=2)
    cloud.start_agent(HOST, LIBVIRT_URI=private_libvirtd.uri)
    cloud.wait_up([HOST])
    (before,) = boot(world, "before-restart")
    cloud.wait(lambda: settled([before.uuid]), 90, "the first server")
    assert Instance.objects.get(uuid=before.uuid).vm_state == states.ACTIVE
    assert Instance.objects.get(uuid=before.uuid).name in {d["name"] for d in cloud.list_domains(HOST)}

    private_libvirtd.stop()
    private_libvirtd.start()

    # the same agent process answers from the restarted daemon (the test hypervisor came back
    # empty: only its own "test" domain) and boots again
    names = {d["name"] for d in cloud.list_domains(HOST)}
    assert "test" in names and Instance.objects.get(uuid=before.uuid).name not in names
    (after,) = boot(world, "after-restart")
    cloud.wait(lambda: settled([after.uuid]), 90, "a server booted after the restart")
    assert Instance.objects.get(uuid=after.uuid).vm_state == states.ACTIVE
    assert Instance.objects.get(uuid=after.uuid).name in {d["name"] for d in cloud.list_domains(HOST)}
    cloud.check_alive()
    for instance in (before, after):
        delete(world, instance)
    cloud.wait(lambda: gone([before.uuid, after.uuid]), 60, "the servers to be deleted")
