"""A real guest keeps getting its address when dnsmasq and the host agent die: the restarted
agent re-creates dnsmasq from the DB, and the rebooted guest takes the same lease again.
(libvirt/QEMU TCG, the project's test image, the real `openstack` client.)"""
import os
import signal

import pytest

from cloudproj.testing.real_guest import real_guest_cloud
from images.testimage import builder
from network.linux import dnsmasq
from network.models import FixedIP

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "dhcp-host"
BRIDGE = "cptdhcp0"
CIDR = "10.240.0.0/24"
BOOT_TIMEOUT = 150
AGENT_ENV = {"LIBVIRT_URI": "qemu:///system", "VIRT_TYPE": "qemu"}


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, osc):
    with real_guest_cloud(settings, tmp_path, osc, label="dhcpnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=0x240000) as env:
        settings.NETWORKS_PATH = env.cloud.state_path(HOST) / "networks"  # read the agent's dnsmasq files
        yield env


def _alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, TypeError):
        return False
    return True


def test_dnsmasq_and_agent_killed_the_rebooted_guest_gets_its_address_again(real_cloud, osc):
    cloud, network = real_cloud.cloud, real_cloud.network
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", "vm1")
    assert server["status"] == "ACTIVE", cloud.logs()
    (address,) = osc("server", "show", "vm1")["addresses"]["dhcpnet"]
    fixed = FixedIP.objects.get(network=network, address=address)
    marker = f"{builder.MARKER_UP} hostname=vm1 ip={address}"

    def console_has_marker():
        return marker in osc("console", "log", "show", "vm1", raw=True).stdout

    cloud.wait(console_has_marker, BOOT_TIMEOUT, "the first lease")

    old_pid = dnsmasq.pid(network.pk)
    assert _alive(old_pid)
    os.kill(old_pid, signal.SIGKILL)
    cloud.kill(f"agent-{HOST}")
    cloud.wait(lambda: not _alive(old_pid), 10, "dnsmasq to die")

    cloud.start_agent(HOST, **AGENT_ENV)
    cloud.wait(lambda: _alive(dnsmasq.pid(network.pk)) and dnsmasq.pid(network.pk) != old_pid, 60,
               "the restarted agent to start dnsmasq again")
    hosts = (cloud.state_path(HOST) / "networks" / str(network.pk) / "hosts").read_text()
    assert f"{fixed.mac_address},{address},vm1" in hosts  # regenerated from the DB

    osc("server", "reboot", "--hard", "--wait", "vm1", raw=True)
    assert osc("server", "show", "vm1")["status"] == "ACTIVE"
    # the console log starts afresh with the new QEMU process: a new marker is a new lease
    cloud.wait(console_has_marker, BOOT_TIMEOUT, "the lease after the reboot")
    leases = (cloud.state_path(HOST) / "networks" / str(network.pk) / "leases").read_text()
    assert f"{fixed.mac_address} {address} vm1" in leases
