"""End to end with a real guest (libvirt/QEMU TCG, the project's test image, a real bridge
and dnsmasq) and the real `openstack` client (which, with the `network` catalog entry, uses
the Networking API for security groups): the default group refuses HTTP to a new server,
from the host and from a network namespace plugged into the guest's bridge (bridged
traffic, FORWARD); `security group rule create --protocol tcp --dst-port 80 default` lets it
through; deleting the rule refuses it again. Egress: the guest's own request to a listener in
the namespace (the image's /cgi-bin/fetch) goes out under the default egress rule and is
blocked once that rule is deleted. A restarted agent rewrites the chains from the
DB (a rule added by hand is gone), and so does its periodic pass; a deleted server leaves
no chain behind.
"""
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

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
NS, NS_HOST_END, NS_PEER = "cptsg-ns", "cptsgns0", "cptsgns1"  # the namespace on the guest's bridge
NS_ADDR, NS_PORT = "10.236.0.250", 8080
NSHTTP = Path(__file__).resolve().parents[2] / "floating" / "tests" / "nshttp.py"


def sh(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60)


@pytest.fixture
def namespace(tmp_path):
    """plug(): a namespace with NS_ADDR on a veth into BRIDGE and an HTTP listener there
    (call it once the bridge exists); removed afterwards."""
    procs = []

    def cleanup():
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)
        sh("ip", "link", "del", NS_HOST_END, check=False)
        sh("ip", "netns", "del", NS, check=False)

    def plug():
        cleanup()
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "add", NS_HOST_END, "type", "veth", "peer", "name", NS_PEER)
        sh("ip", "link", "set", NS_PEER, "netns", NS)
        sh("ip", "link", "set", NS_HOST_END, "master", BRIDGE, "up")
        sh("ip", "netns", "exec", NS, "ip", "addr", "add", f"{NS_ADDR}/24", "dev", NS_PEER)
        sh("ip", "netns", "exec", NS, "ip", "link", "set", NS_PEER, "up")
        sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
        procs.append(subprocess.Popen(["ip", "netns", "exec", NS, sys.executable, str(NSHTTP), NS_ADDR,
                                       str(NS_PORT), str(tmp_path / "peers.log")]))

    yield plug
    cleanup()


def ns_http(address: str, timeout: float = 3) -> str | None:
    """HTTP GET of the guest from the namespace (bridged: FORWARD); None when refused."""
    proc = subprocess.run(["ip", "netns", "exec", NS, "curl", "-s", "-m", str(timeout), f"http://{address}/"],
                          capture_output=True, text=True, timeout=timeout + 15)
    return proc.stdout if proc.returncode == 0 and proc.stdout else None


def guest_fetch(address: str) -> str:
    """The guest's own outbound request to the namespace's listener (FETCH-OK / FETCH-FAILED)."""
    try:
        with urllib.request.urlopen(f"http://{address}/cgi-bin/fetch?{NS_ADDR}:{NS_PORT}", timeout=20) as response:
            return response.read().decode(errors="replace")
    except OSError:
        return ""


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


def test_default_group_refuses_http_until_a_rule_allows_it(real_cloud, osc, namespace):
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
    namespace()
    assert f"-s {address}/32 -i {BRIDGE} -j {iptables.egress_chain(HOST, shown['id'])}" in filter_table()
    assert ns_http(address) is None, "the default group let the namespace's HTTP through"

    rule = osc("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", "default")
    assert marker in cloud.wait(lambda: _http(address), 30, "HTTP once port 80 is open")
    assert marker in cloud.wait(lambda: ns_http(address), 30, "the namespace's HTTP once port 80 is open")

    # egress: the default egress rule lets the guest's own request out; without it, nothing goes
    try:
        cloud.wait(lambda: "FETCH-OK" in guest_fetch(address), 60, "the guest's request to the namespace")
    except AssertionError:
        out = iptables.egress_chain(HOST, shown["id"])
        diag = [guest_fetch(address), sh("iptables", "-w", "-L", out, "-v", "-n", check=False).stdout,
                sh("iptables", "-w", "-L", "FORWARD", "-v", "-n", check=False).stdout,
                sh("ip", "netns", "exec", NS, "ss", "-ltn", check=False).stdout,
                ns_http(f"{NS_ADDR}:{NS_PORT}") or "no answer from the listener"]
        raise AssertionError("the guest's request to the namespace failed:\n" + "\n".join(diag)) from None
    (egress,) = [r for r in osc("security", "group", "rule", "list", "--egress", "default")]
    osc("security", "group", "rule", "delete", egress["ID"], raw=True)
    cloud.wait(lambda: "FETCH-FAILED" in guest_fetch(address), 60, "the guest's request to be blocked")
    assert marker in (_http(address) or ""), "inbound HTTP (and its replies) must still work"
    osc("security", "group", "rule", "create", "--egress", "--protocol", "any", "default")
    cloud.wait(lambda: "FETCH-OK" in guest_fetch(address), 60, "the guest's request once egress is allowed again")

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
