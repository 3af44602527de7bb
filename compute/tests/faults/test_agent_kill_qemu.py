"""Kill -9 the agent of a REAL host (libvirt qemu:///system, QEMU TCG, the project's test image,
a bridge and dnsmasq of the test's own) inside spawn and inside delete, then start it again.
test_agent_kill.py does the same on libvirt's test:/// driver, whose domains and overlays are
not real; here what the kill could leave is looked for on the host itself: libvirt domains
(defined or running), QEMU processes, the instance directory with its overlay disk, the
network's dnsmasq hosts file and leases, besides fixed IPs, claims, node usage and quota.

The worker is held inside the step by the test-only FAULT_INJECT_PAUSE hook (spawn: after the
domain was defined and started; terminate: before anything was torn down), so the kill lands
there every time. An interrupted spawn is run again when the agent starts again
(recovery.recover_host): it finds its running domain and the server is ACTIVE as that one
domain, with its address; whether the scheduler may retry on the same host (RetryFilter) does
not matter, since nothing is rescheduled."""
import subprocess

import pytest

from cloudproj.testing.pipeline import assert_nothing_leaked, settled
from cloudproj.testing.real_guest import real_guest_cloud
from compute import states
from compute.models import Claim, Instance, InstanceActionEvent, InstanceFault
from images.testimage import builder
from network.models import FixedIP

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "qkill-qemu-1"
BRIDGE = "cptqkill0"
CIDR = "10.246.0.0/24"
ID_START = 0x246000
QEMU = {"LIBVIRT_URI": "qemu:///system", "VIRT_TYPE": "qemu"}
BOOT_TIMEOUT = 240


# --- what the host has ---------------------------------------------------------------------------


def libvirt_domains(instance: Instance) -> list[tuple[str, bool]]:
    """(name, running) of every domain libvirt knows (defined or running) with the instance's
    uuid or name."""
    import libvirt

    conn = libvirt.open("qemu:///system")
    try:
        return [(dom.name(), bool(dom.isActive())) for dom in conn.listAllDomains()
                if dom.UUIDString() == str(instance.uuid) or dom.name() == instance.name]
    finally:
        conn.close()


def qemu_processes(instance: Instance) -> list[str]:
    """Pids of QEMU processes running the instance (libvirt names them `-name guest=<name>,`)."""
    found = subprocess.run(["pgrep", "-f", f"guest={instance.name},"], capture_output=True, text=True, timeout=30)
    return found.stdout.split()


def network_file(env, name: str) -> str:
    path = env.cloud.state_path(HOST) / "networks" / str(env.network.pk) / name
    return path.read_text() if path.exists() else ""


def instance_dir(env, instance: Instance):
    return env.cloud.state_path(HOST) / "instances" / instance.name


def address_of(env, instance: Instance) -> tuple[str, str]:
    """(ip, mac) of the instance's one fixed address, which has its entry in dnsmasq's hosts file."""
    (row,) = FixedIP.objects.filter(instance_uuid=instance.uuid)
    entries = [line for line in network_file(env, "hosts").splitlines() if row.mac_address.lower() in line.lower()]
    assert len(entries) == 1 and row.address in entries[0], network_file(env, "hosts")
    return row.address, row.mac_address


def nothing_of(env, instance: Instance, address: tuple[str, str]) -> None:
    """The host keeps nothing of `instance`: no domain, QEMU process, directory (overlay), DHCP
    host entry of its `address` (ip, mac), fixed address or capacity claim."""
    assert libvirt_domains(instance) == [], f"libvirt still has a domain of {instance.uuid}"
    assert qemu_processes(instance) == [], f"a QEMU process of {instance.name} still runs"
    disk_dir = instance_dir(env, instance)
    assert not disk_dir.exists(), sorted(p.name for p in disk_dir.iterdir())
    entries = network_file(env, "hosts")
    assert address[0] not in entries and address[1].lower() not in entries.lower(), entries
    assert not FixedIP.objects.filter(instance_uuid=instance.uuid).exists()
    assert not Claim.objects.filter(instance=instance).exists()


def nothing_leaked(env, project) -> None:
    """After every server was deleted: nothing of them anywhere (faults/conftest.py), and
    no domain of this test's instances on the host."""
    assert_nothing_leaked({"project": project, "network": env.network}, env.cloud, [HOST])
    for instance in Instance.all_objects.all():
        assert libvirt_domains(instance) == [], f"libvirt still has a domain of {instance.uuid}"
        assert qemu_processes(instance) == [], f"a QEMU process of {instance.name} still runs"


# --- the cloud ------------------------------------------------------------------------------------


def qemu_cloud(settings, tmp_path, osc, pause: str, scheduler_filters=None):
    markers = tmp_path / "faults"
    markers.mkdir()
    cloud_env = {"FAULT_INJECT_DIR": markers, "BROKER_VISIBILITY_TIMEOUT": 20}
    if scheduler_filters is not None:
        cloud_env["SCHEDULER_FILTERS"] = ",".join(scheduler_filters)
    env = real_guest_cloud(settings, tmp_path, osc, label="qknet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                           instance_id_start=ID_START, servers=("vm1",), cloud_env=cloud_env,
                           agent_env={"FAULT_INJECT_PAUSE": pause})
    return env, markers


def held(cloud, marker) -> None:
    cloud.wait(marker.exists, BOOT_TIMEOUT, f"the agent to be held at {marker.name}")


def restart_agent(cloud, pause="none") -> None:
    cloud.kill(f"agent-{HOST}")  # SIGKILL
    cloud.start_agent(HOST, FAULT_INJECT_PAUSE=pause, **QEMU)
    cloud.wait_up([HOST])


def guest_came_up(env, osc, address: tuple[str, str]) -> None:
    """The guest booted and got its address from dnsmasq: its UP marker on its console, its
    lease in dnsmasq's leases file."""
    ip, mac = address
    marker = f"{builder.MARKER_UP} hostname=vm1 ip={ip}"
    env.cloud.wait(lambda: marker in osc("console", "log", "show", "vm1", raw=True).stdout, BOOT_TIMEOUT,
                   "the guest's UP marker on its console")
    assert f"{mac.lower()} {ip} vm1" in network_file(env, "leases").lower(), network_file(env, "leases")


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("retry", ["default_filters", "same_host"])
def test_kill_in_spawn_then_restart(settings, tmp_path, admin_account, osc, retry):
    """The agent dies with the guest defined and running. Started again, it runs the spawn
    again, which finds its own running domain: the server ends ACTIVE as exactly that one
    domain, with the address it had, whose guest came up; whether the scheduler may retry on
    the host that failed does not matter (nothing is rescheduled)."""
    filters = None
    if retry == "same_host":
        filters = [name for name in settings.SCHEDULER_FILTERS if not name.endswith(".RetryFilter")]
        assert len(filters) == len(settings.SCHEDULER_FILTERS) - 1
    env_cm, markers = qemu_cloud(settings, tmp_path, osc, "spawn", scheduler_filters=filters)
    with env_cm as env:
        cloud = env.cloud
        osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "vm1")
        server = Instance.objects.get(display_name="vm1")
        held(cloud, markers / f"spawn-{server.uuid}")
        # the kill lands with the first attempt's guest really on the host
        assert libvirt_domains(server) == [(server.name, True)]
        assert len(qemu_processes(server)) == 1
        assert instance_dir(env, server).is_dir()
        first_address = address_of(env, server)

        restart_agent(cloud)
        cloud.wait(lambda: settled([server.uuid]), BOOT_TIMEOUT, "the interrupted build to settle")
        server.refresh_from_db()
        assert (server.vm_state, server.task_state) == (states.ACTIVE, None)
        assert not InstanceFault.objects.filter(instance=server).exists()
        # the interrupted spawn is in the server's history: cut short, then run again
        events = list(InstanceActionEvent.objects.filter(action__instance=server, event="spawn")
                      .order_by("start_time", "id").values_list("result", "details"))
        assert [result for result, _ in events] == ["Error", "Success"], events
        assert f"stopped during spawn of instance {server.uuid}" in events[0][1]
        assert osc("server", "show", "vm1")["status"] == "ACTIVE"
        assert server.host == HOST and server.power_state == 1
        assert libvirt_domains(server) == [(server.name, True)]  # the one domain, never a second
        assert len(qemu_processes(server)) == 1
        assert instance_dir(env, server).is_dir()
        assert address_of(env, server) == first_address
        assert Claim.objects.filter(instance=server).count() == 1
        guest_came_up(env, osc, first_address)

        osc("server", "delete", "--wait", "vm1", raw=True)
        assert not osc("server", "list")
        nothing_of(env, server, first_address)
        nothing_leaked(env, admin_account[1])


def test_kill_in_delete_then_restart(settings, tmp_path, admin_account, osc):
    """The agent dies while it deletes a running guest (nothing torn down yet). Started again,
    it finishes the delete: the server is gone, and so is everything it had on the host."""
    env_cm, markers = qemu_cloud(settings, tmp_path, osc, "terminate")
    with env_cm as env:
        cloud = env.cloud
        shown = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", "vm1")
        assert shown["status"] == "ACTIVE", cloud.logs()
        server = Instance.objects.get(uuid=shown["id"])
        address = address_of(env, server)
        guest_came_up(env, osc, address)
        assert libvirt_domains(server) == [(server.name, True)]

        osc("server", "delete", "vm1", raw=True)
        held(cloud, markers / f"terminate-{server.uuid}")
        # the kill lands with the guest still running on the host
        assert Instance.objects.get(pk=server.pk).task_state == states.task.DELETING
        assert libvirt_domains(server) == [(server.name, True)]
        restart_agent(cloud)
        cloud.wait(lambda: not Instance.objects.filter(pk=server.pk).exists(), BOOT_TIMEOUT,
                   "the interrupted delete to be finished")
        assert Instance.all_objects.get(pk=server.pk).vm_state == states.DELETED
        assert not osc("server", "list")
        nothing_of(env, server, address)
        nothing_leaked(env, admin_account[1])
