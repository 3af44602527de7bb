"""Kill -9 the agent of a REAL host (libvirt/QEMU TCG, the project's test image, a bridge and
dnsmasq of its own) in the middle of a spawn and of a delete, then start it again: what the
test:/// versions in faults/test_agent_kill.py cannot see is checked here on the host itself,
the libvirt domain, the instance's directory with its overlay disk, and dnsmasq's hosts file.

The worker is held inside the step by the test-only FAULT_INJECT_PAUSE hook (after the step's
work: in spawn the guest is defined and running), so the kill lands there every time."""
import subprocess

import pytest

from compute import states
from compute.models import Claim, Instance, InstanceFault
from identity import quotas
from network.models import FixedIP

from .real_guest import real_guest_cloud

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "kill-qemu-1"
BRIDGE = "cptkq0"
CIDR = "10.243.0.0/24"
ID_START = 0x243000
QEMU = {"LIBVIRT_URI": "qemu:///system", "VIRT_TYPE": "qemu"}


def has_domain(uuid) -> bool:
    return subprocess.run(["virsh", "-c", "qemu:///system", "dominfo", str(uuid)], capture_output=True,
                          timeout=60).returncode == 0


def domain_state(uuid) -> str:
    return subprocess.run(["virsh", "-c", "qemu:///system", "domstate", str(uuid)], capture_output=True,
                          text=True, timeout=60).stdout.strip()


@pytest.fixture
def qemu(settings, tmp_path, admin_account, osc):
    markers = tmp_path / "faults"
    markers.mkdir()
    with real_guest_cloud(settings, tmp_path, osc, label="kqnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=ID_START, servers=("vm1", "vm2"),
                          cloud_env={"FAULT_INJECT_DIR": markers, "BROKER_VISIBILITY_TIMEOUT": 20},
                          agent_env={"FAULT_INJECT_PAUSE": "spawn"}) as env:
        env.markers = markers
        yield env


def restart_agent(cloud, pause="none", sig=9):
    cloud.kill(f"agent-{HOST}", sig=sig)
    cloud.start_agent(HOST, FAULT_INJECT_PAUSE=pause, **QEMU)
    cloud.wait_up([HOST])


def held(cloud, marker):
    cloud.wait(marker.exists, 240, f"the agent to be held at {marker.name}")


def address_of(env, instance: Instance) -> tuple:
    """(ip, mac) of the instance's fixed address, which is in dnsmasq's hosts file now."""
    row = FixedIP.objects.get(instance_uuid=instance.uuid)
    hosts_file = env.cloud.state_path(HOST) / "networks" / str(env.network.pk) / "hosts"
    assert row.address in hosts_file.read_text()
    return row.address, row.mac_address


def nothing_on_the_host(env, instance: Instance, address: tuple) -> None:
    """The host keeps nothing of `instance`: domain, directory with its overlay, DHCP entry
    of its `address` (ip, mac), fixed address, capacity claim."""
    assert not has_domain(instance.uuid), f"libvirt still has the domain of {instance.uuid}"
    disk_dir = env.cloud.state_path(HOST) / "instances" / instance.name
    assert not disk_dir.exists(), sorted(p.name for p in disk_dir.iterdir())
    hosts_file = env.cloud.state_path(HOST) / "networks" / str(env.network.pk) / "hosts"
    entries = hosts_file.read_text() if hosts_file.exists() else ""
    assert address[0] not in entries and address[1].lower() not in entries.lower(), entries
    assert not FixedIP.objects.filter(instance_uuid=instance.uuid).exists()
    assert not Claim.objects.filter(instance=instance).exists()


def test_kill_in_spawn_then_in_delete_leaves_nothing_on_the_host(qemu, osc):
    cloud = qemu.cloud
    # --- spawn: the guest is defined and running when the agent dies --------------------------
    osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "vm1")
    victim = Instance.objects.get(display_name="vm1")
    held(cloud, qemu.markers / f"spawn-{victim.uuid}")
    assert domain_state(victim.uuid) == "running"
    victim.refresh_from_db()
    disk_dir = cloud.state_path(HOST) / "instances" / victim.name
    assert disk_dir.exists()
    victim_address = address_of(qemu, victim)
    restart_agent(cloud)
    # rolled back on the host; with one host the retry has nowhere to go: ERROR with a fault
    cloud.wait(lambda: Instance.objects.get(pk=victim.pk).vm_state == states.ERROR, 240,
               "the interrupted build to be settled")
    victim.refresh_from_db()
    assert victim.task_state is None
    fault = InstanceFault.objects.filter(instance=victim).latest("created_at")
    assert f"stopped during spawn of instance {victim.uuid}" in fault.message
    nothing_on_the_host(qemu, victim, victim_address)
    assert osc("server", "show", "vm1")["status"] == "ERROR"

    # --- delete: the agent dies while it tears a running guest down ---------------------------
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", "vm2")
    assert server["status"] == "ACTIVE", cloud.logs()
    guest = Instance.objects.get(uuid=server["id"])
    assert domain_state(guest.uuid) == "running"
    guest_address = address_of(qemu, guest)
    restart_agent(cloud, pause="terminate", sig=15)
    osc("server", "delete", "vm2", raw=True)
    held(cloud, qemu.markers / f"terminate-{guest.uuid}")
    restart_agent(cloud)
    cloud.wait(lambda: not Instance.objects.filter(pk=guest.pk).exists(), 240,
               "the interrupted delete to be finished")
    nothing_on_the_host(qemu, guest, guest_address)

    osc("server", "delete", "--wait", "vm1", raw=True)
    nothing_on_the_host(qemu, victim, victim_address)
    usages = quotas.get_usages(victim.project)
    assert (usages["instances"]["in_use"], usages["cores"]["in_use"], usages["ram"]["in_use"]) == (0, 0, 0)
