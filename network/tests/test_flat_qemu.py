"""The Flat manager with a real guest: the operator's bridge (with the operator's router
address), no dnsmasq, and the guest configured from `ip=` on its kernel command line; the
host reaches its HTTP once the security group allows it."""
import subprocess

import pytest

from cloudproj.testing.osc import nova_network_commands_missing
from cloudproj.testing.real_guest import http, real_guest_cloud
from images.testimage import builder
from network.linux import bridge as linux_bridge
from network.linux import dnsmasq

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
osc_missing = nova_network_commands_missing("security_group_rule", "CreateSecurityGroupRule", "security group rule")
if osc_missing:
    pytestmark.append(pytest.mark.skip(reason=osc_missing))

HOST = "flat-host"
BRIDGE = "cptflat0"
CIDR = "10.233.0.0/24"
ROUTER = "10.233.0.1/24"  # the operator's: the network's gateway, set up before the cloud
BOOT_TIMEOUT = 150
INSTANCE_ID_START = 0x233000


@pytest.fixture
def operator_bridge():
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)
    subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", ROUTER, "dev", BRIDGE], check=True)
    subprocess.run(["ip", "link", "set", BRIDGE, "up"], check=True)
    yield BRIDGE
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


def test_flat_guest_takes_its_address_from_the_kernel_command_line(settings, tmp_path, admin_account, osc,
                                                                     operator_bridge):
    with real_guest_cloud(settings, tmp_path, osc, label="flatnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=INSTANCE_ID_START, network_options={"injected": True}) as env:
        cloud = env.cloud
        server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", "vm1")
        assert server["status"] == "ACTIVE", cloud.logs()
        (address,) = osc("server", "show", "vm1")["addresses"]["flatnet"]
        marker = f"{builder.MARKER_UP} hostname=vm1 ip={address}"
        console = cloud.wait(lambda: (lambda text: text if marker in text else None)(
            osc("console", "log", "show", "vm1", raw=True).stdout), BOOT_TIMEOUT, "the guest's UP marker")
        assert f"static address {address}/255.255.255.0 gateway 10.233.0.1 on eth0" in console
        assert "udhcpc" not in console

        settings.NETWORKS_PATH = cloud.state_path(HOST) / "networks"
        assert not dnsmasq.is_running(env.network.pk), "a Flat network must not run dnsmasq"
        assert linux_bridge.addresses(BRIDGE) == [ROUTER], "the operator's bridge addresses were changed"

        osc("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", "default")
        assert marker in cloud.wait(lambda: http(address), 30, "HTTP from the host through the Flat bridge")
