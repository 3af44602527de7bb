"""End to end with a real guest (libvirt/QEMU TCG, the project's test image, a real bridge
and dnsmasq) and the real `openstack` client: the default group refuses the host's HTTP to
a new server; `security group rule create --protocol tcp --dst-port 80 default` lets it
through; deleting the rule refuses it again. A restarted agent rewrites the chains from the
DB (a rule added by hand is gone), and so does its periodic pass; a deleted server leaves
no chain behind.
"""
import shutil
import subprocess

import pytest

from cloudproj.testing.host_network import filter_table
from cloudproj.testing.osc import osc_nova_network_security_groups_missing as osc_nova_network_missing
from cloudproj.testing.real_guest import http as _http
from cloudproj.testing.real_guest import real_guest_cloud
from images.testimage import builder
from secgroups.linux import iptables
from secgroups.services import host as host_service

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
osc_missing = osc_nova_network_missing()
if osc_missing:
    pytestmark.append(pytest.mark.skip(reason=osc_missing))

HOST = "sg-host"
BRIDGE = "cptsg0"
CIDR = "10.236.0.0/24"
BOOT_TIMEOUT = 150
INSTANCE_ID_START = 0x236000


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, osc):
    if shutil.which("iptables-restore") is None:
        pytest.skip("missing host tools: iptables-restore")
    with real_guest_cloud(settings, tmp_path, osc, label="sgnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=INSTANCE_ID_START,
                          agent_env={"FIREWALL_RESYNC_INTERVAL": 3600}) as env:  # only the restart rewrites
        yield {"cloud": env.cloud, "image": env.images["root"], "network": env.network}
    host_service.teardown(HOST)


def _refused(address: str) -> bool:
    return _http(address, timeout=2) is None


def test_default_group_refuses_http_until_a_rule_allows_it(real_cloud, osc):
    cloud = real_cloud["cloud"]
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", "vm1")
    assert server["status"] == "ACTIVE", cloud.logs()
    shown = osc("server", "show", "vm1")
    assert "default" in str(shown["security_groups"])
    (address,) = shown["addresses"]["sgnet"]
    marker = f"{builder.MARKER_UP} hostname=vm1 ip={address}"

    # DHCP went through the chain; the guest's HTTP server is up (it says so after starting it)
    cloud.wait(lambda: marker in osc("console", "log", "show", "vm1", raw=True).stdout, BOOT_TIMEOUT,
               "the guest's UP marker on the console")
    chain = iptables.instance_chain(HOST, shown["id"])
    assert f"-d {address}/32 -o {BRIDGE} -j {chain}" in filter_table()
    assert _refused(address), "the default group let the host's HTTP through"

    rule = osc("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", "default")
    assert marker in cloud.wait(lambda: _http(address), 30, "HTTP once port 80 is open")

    osc("security", "group", "rule", "delete", str(rule["id"]), raw=True)
    cloud.wait(lambda: _refused(address), 30, "HTTP to be refused again after the rule was deleted")

    # a rule added by hand is overwritten when the agent starts again
    subprocess.run(["iptables", "-w", "-I", chain, "1", "-p", "tcp", "--dport", "80", "-j", "ACCEPT"], check=True)
    assert cloud.wait(lambda: _http(address), 10, "HTTP through the hand-made rule")
    cloud.kill(f"agent-{HOST}")
    cloud.start_agent(HOST, LIBVIRT_URI="qemu:///system", VIRT_TYPE="qemu", FIREWALL_RESYNC_INTERVAL=2)
    cloud.wait(lambda: "-p tcp -m tcp --dport 80 -j ACCEPT" not in filter_table(), 60,
               "the restarted agent to rewrite the chains")
    assert _refused(address)
    assert f"-j {chain}" in filter_table()
    # and so does its periodic pass, without a restart
    subprocess.run(["iptables", "-w", "-I", chain, "1", "-p", "tcp", "--dport", "80", "-j", "ACCEPT"], check=True)
    cloud.wait(lambda: "-p tcp -m tcp --dport 80 -j ACCEPT" not in filter_table(), 30,
               "the agent's periodic pass to rewrite the chains")

    # deleting the server removes its chain and its jump
    osc("server", "delete", "--wait", "vm1", raw=True)
    assert chain not in filter_table()
