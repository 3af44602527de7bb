"""End to end with a real guest and real traffic: a floating IP through the real clients.

The project's test image boots through the real scheduler and agent (libvirt/QEMU) on bridge
cptfip0 (10.238.0.0/24). The public side is made here: a veth pair whose host end
(203.0.113.1/26, TEST-NET-3: these machines' own network is TEST-NET-1; only a /26 of it, as
this machine reaches its package mirror and index at 203.0.113.80) is the floating
interface and whose other end sits in a network namespace, the "outside", routed only to the
public side. A client there reaches the guest's HTTP through the floating address once it is
associated and not after it is removed; the guest's own outbound request (the image's
/cgi-bin/fetch) reaches a listener outside with the floating address as its source.

Clients: the `openstack` CLI for servers; the floating IP through the Networking API
(openstacksdk's network proxy: create_ip from the pool's external network, update_ip port_id to
associate and null to disassociate), whose status turns ACTIVE once the NAT host applied it.
"""
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from cloudproj.testing.host_network import range_in_use
from cloudproj.testing.real_guest import real_guest_cloud
from floating.linux import nat
from floating.services.host import prefix_for
from floating.services.pools import pool_network_id
from network.models import FixedIP
from images.testimage import builder

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "fip-host"
BRIDGE = "cptfip0"
CIDR = "10.238.0.0/24"
OUTSIDE = "cptfip-out"  # the network namespace
PUB, PUB_PEER = "cptfippub0", "cptfippub1"
PUBLIC_CIDR, PUBLIC_GATEWAY, OUTSIDE_ADDR = "203.0.113.0/26", "203.0.113.1", "203.0.113.2"
PREFIX = PUBLIC_CIDR.split("/")[1]
RANGE, POOL = "203.0.113.48/28", "public"
LISTEN_PORT = 8080
BOOT_TIMEOUT = 150
NSHTTP = Path(__file__).with_name("nshttp.py")


def sh(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60)


def outside_get(url: str, timeout: float = 3) -> str | None:
    """HTTP GET from the outside namespace; None when nothing answers."""
    proc = subprocess.run(["ip", "netns", "exec", OUTSIDE, "curl", "-s", "-m", str(timeout), url],
                          capture_output=True, text=True, timeout=timeout + 15)
    return proc.stdout if proc.returncode == 0 and proc.stdout else None


def host_get(url: str, timeout: float = 12) -> str | None:
    proc = subprocess.run(["curl", "-s", "-m", str(timeout), url], capture_output=True, text=True,
                          timeout=timeout + 15)
    return proc.stdout if proc.returncode == 0 and proc.stdout else None


def _cleanup_public_side():
    subprocess.run(["ip", "netns", "del", OUTSIDE], capture_output=True)
    subprocess.run(["ip", "link", "del", "dev", PUB], capture_output=True)


@pytest.fixture
def public_side(tmp_path):
    """The outside namespace on a veth pair, and an HTTP listener there that records peers."""
    _cleanup_public_side()  # a previous run killed halfway
    used = range_in_use(PUBLIC_CIDR)
    if used:
        pytest.skip(f"the test's public range {PUBLIC_CIDR} is this machine's own network: {used}")
    forwarding = nat.FORWARDING.read_text()
    sh("ip", "netns", "add", OUTSIDE)
    listener = None
    try:
        sh("ip", "link", "add", PUB, "type", "veth", "peer", "name", PUB_PEER)
        sh("ip", "link", "set", PUB_PEER, "netns", OUTSIDE)
        sh("ip", "addr", "add", f"{PUBLIC_GATEWAY}/{PREFIX}", "dev", PUB)
        sh("ip", "link", "set", PUB, "up")
        for argv in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", f"{OUTSIDE_ADDR}/{PREFIX}", "dev", PUB_PEER],
                     ["ip", "link", "set", PUB_PEER, "up"]):
            sh("ip", "netns", "exec", OUTSIDE, *argv)
        log = tmp_path / "outside-peers.log"
        log.touch()
        listener = subprocess.Popen(
            ["ip", "netns", "exec", OUTSIDE, sys.executable, str(NSHTTP), OUTSIDE_ADDR, str(LISTEN_PORT), str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 15
        while outside_get(f"http://{OUTSIDE_ADDR}:{LISTEN_PORT}/") is None:
            assert time.monotonic() < deadline, "the outside listener did not start"
            time.sleep(0.2)
        log.write_text("")
        yield {"log": log}
    finally:
        if listener is not None:
            listener.kill()
            listener.wait(10)
        _cleanup_public_side()
        nat.FORWARDING.write_text(forwarding)


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, osc, public_side):
    def floating_range(_cloud):
        call_command("floating", "create", f"--ip_range={RANGE}", "--pool", POOL, "--interface", PUB)

    try:
        with real_guest_cloud(settings, tmp_path, osc, label="fipnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                              agent_env={"FLOATING_INTERFACE": PUB}, before_agents=floating_range) as env:
            yield {"cloud": env.cloud, "network": env.network, "log": public_side["log"]}
    finally:
        nat.remove_rules(prefix_for(HOST))  # after the agent stopped: it would put them back


@pytest.fixture
def sdk(live_server, admin_account):
    """A real openstacksdk connection (what openstackclient runs on) to the live server."""
    import openstack

    conn = openstack.connect(
        auth_url=f"{live_server.url}/identity", username="admin", password="secret-pass", project_name="admin",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
        interface="public", identity_api_version="3",
    )
    yield conn
    conn.close()


def allow_http_if_security_groups(sdk):
    """Security groups are enforced on this cloud once that app is installed: the default group
    denies inbound, so open tcp/80 to the world through the Compute API, as a user would."""
    if not apps.is_installed("secgroups"):
        return
    groups = sdk.compute.get("/os-security-groups").json()["security_groups"]
    default = next(group for group in groups if group["name"] == "default")
    rule = {"parent_group_id": default["id"], "ip_protocol": "tcp", "from_port": 80, "to_port": 80,
            "cidr": "0.0.0.0/0"}
    response = sdk.compute.post("/os-security-group-rules", json={"security_group_rule": rule})
    assert response.status_code == 200, response.text


def wait(cloud, predicate, timeout, what):
    return cloud.wait(predicate, timeout, what, interval=0.5)


def test_floating_ip_reaches_the_guest_from_outside_and_snats_its_traffic(real_cloud, osc, sdk):
    cloud = real_cloud["cloud"]
    allow_http_if_security_groups(sdk)
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", "vm1")
    assert server["status"] == "ACTIVE", cloud.logs()
    (fixed,) = osc("server", "show", "vm1")["addresses"]["fipnet"]
    marker = f"{builder.MARKER_UP} hostname=vm1 ip={fixed}"
    wait(cloud, lambda: marker in (host_get(f"http://{fixed}/", 3) or ""), BOOT_TIMEOUT, "HTTP from the guest")
    fetch = f"/cgi-bin/fetch?{OUTSIDE_ADDR}:{LISTEN_PORT}"
    # without a floating IP the outside neither reaches the guest nor gets an answerable request
    assert outside_get(f"http://{fixed}/", timeout=2) is None
    assert "FETCH-FAILED" in host_get(f"http://{fixed}{fetch}")

    # the Networking API: the pool is an external network; allocate from it
    ip = sdk.network.create_ip(floating_network_id=pool_network_id(POOL))
    address = ip.floating_ip_address
    assert address.startswith("203.0.113.") and (ip.port_id, ip.status) == (None, "DOWN")
    assert [i.floating_ip_address for i in sdk.network.ips()] == [address]
    port = str(FixedIP.objects.get(instance_uuid=server["id"]).port_id)  # the server's one port

    # PUT port_id: the outside reaches the guest's HTTP; the status turns ACTIVE once applied
    ip = sdk.network.update_ip(ip, port_id=port)
    assert (ip.port_id, ip.fixed_ip_address) == (port, fixed)
    assert osc("server", "show", "vm1")["addresses"] == {"fipnet": [fixed, address]}
    assert marker in wait(cloud, lambda: outside_get(f"http://{address}/"), 30, "HTTP through the floating IP")
    wait(cloud, lambda: sdk.network.get_ip(ip.id).status == "ACTIVE", 30, "status ACTIVE")
    # the host itself reaches it too (the nat OUTPUT rule: what `make run` users do with curl)
    assert marker in (host_get(f"http://{address}/", 5) or "")
    # ... and the guest's own request leaves with the floating address as its source
    answer = outside_get(f"http://{address}{fetch}", timeout=15) or ""
    assert "FETCH-OK" in answer and f"peer={address}" in answer, answer
    assert address in real_cloud["log"].read_text().split()
    assert fixed not in real_cloud["log"].read_text()
    prefix = prefix_for(HOST)
    assert f"-A {prefix}-pre -d {address}/32 -j DNAT --to-destination {fixed}" in nat.chain_rules(prefix)[
        f"{prefix}-pre"]
    assert address in nat.host_addresses(PUB)

    # PUT port_id null: nothing gets in any more, nothing leaves as it
    ip = sdk.network.update_ip(ip, port_id=None)
    assert (ip.port_id, ip.fixed_ip_address, ip.status) == (None, None, "DOWN")
    wait(cloud, lambda: outside_get(f"http://{address}/", timeout=2) is None, 30, "the floating IP to stop answering")
    assert host_get(f"http://{address}/", 2) is None
    assert osc("server", "show", "vm1")["addresses"] == {"fipnet": [fixed]}
    assert address not in nat.host_addresses(PUB) and nat.chain_rules(prefix)[f"{prefix}-pre"] == []
    assert "FETCH-FAILED" in host_get(f"http://{fixed}{fetch}")

    # the agent regenerates the NAT from the DB when it starts (here after losing it all)
    sdk.network.update_ip(ip, port_id=port)
    wait(cloud, lambda: outside_get(f"http://{address}/"), 30, "HTTP through the floating IP again")
    cloud.kill(f"agent-{HOST}")
    for _hook, suffix in nat.HOOKS:
        sh("iptables", "-w", "-t", "nat", "-F", f"{prefix}-{suffix}")
    nat.remove_address(address, PUB)
    assert outside_get(f"http://{address}/", timeout=2) is None
    cloud.start_agent(HOST, LIBVIRT_URI="qemu:///system", VIRT_TYPE="qemu", FLOATING_INTERFACE=PUB)
    assert marker in wait(cloud, lambda: outside_get(f"http://{address}/"), 60, "HTTP after the agent restarted")

    # deleting the server disassociates its floating IP and removes the NAT
    osc("server", "delete", "--wait", "vm1", raw=True)
    shown = sdk.network.get_ip(ip.id)
    assert (shown.port_id, shown.fixed_ip_address, shown.status) == (None, None, "DOWN")
    wait(cloud, lambda: address not in nat.host_addresses(PUB), 30, "the address to leave the public interface")
    assert nat.chain_rules(prefix)[f"{prefix}-pre"] == []
    assert outside_get(f"http://{address}/", timeout=2) is None

    # DELETE: back to the pool
    sdk.network.delete_ip(ip)
    assert list(sdk.network.ips()) == []
