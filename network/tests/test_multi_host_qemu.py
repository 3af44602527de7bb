"""Multi-host with real guests: one multi-host network, two compute hosts (two agents on this
machine, both on qemu:///system). Each host serves the network itself: its own address on the
bridge (a fixed IP held by the host), its own dnsmasq answering only its own instances (and
being their gateway), the metadata DNAT, and the floating-IP NAT of its own instances.

On one machine both hosts' bridges are the same device, so both hosts' addresses sit on it
and both dnsmasqs listen on it, as they would on two machines joined by flat_interface."""
import os
import signal
import subprocess

import pytest
from django.core.management import call_command

from cloudproj.testing.osc import nova_network_commands_missing
from cloudproj.testing.real_guest import free_port, real_guest_cloud, start_metadata_service
from compute.models import Instance
from floating.linux import nat
from floating.services.host import prefix_for
from images.testimage import builder
from metadata.linux import iptables as metadata_iptables
from network.linux import bridge as linux_bridge
from network.models import FixedIP
from network.services.fixed_ips import DHCP_SERVER_HOSTNAME

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
osc_missing = nova_network_commands_missing("floating_ip", "CreateFloatingIP", "floating ip")
if osc_missing:
    pytestmark.append(pytest.mark.skip(reason=osc_missing))

HOSTS = ("mh-a", "mh-b")
BRIDGE = "cptmh0"
CIDR = "10.235.0.0/24"
PUB = "cptmhpub0"  # the public interface of the floating NAT (rules only: the traffic is floating's test)
RANGE = "198.51.100.224/28"  # apart from floating/tests/test_host.py's addresses
POOL = "mhpool"
BOOT_TIMEOUT = 150
INSTANCE_ID_START = 0x235000
AGENT = {"LIBVIRT_URI": "qemu:///system", "VIRT_TYPE": "qemu", "FLOATING_INTERFACE": PUB}


@pytest.fixture
def public_interface():
    subprocess.run(["ip", "link", "del", PUB], capture_output=True)
    subprocess.run(["ip", "link", "add", PUB, "type", "veth", "peer", "name", PUB + "p"], check=True)  # no dummy module here
    subprocess.run(["ip", "link", "set", PUB, "up"], check=True)
    yield PUB
    subprocess.run(["ip", "link", "del", PUB], capture_output=True)


def _host_dnsmasq(cloud, host, network_id):
    """(pid, hosts file lines, leased MACs) of `host`'s dnsmasq for the network."""
    base = cloud.state_path(host) / "networks" / str(network_id)
    pid_text = (base / "dnsmasq.pid").read_text().strip() if (base / "dnsmasq.pid").exists() else ""
    hosts = (base / "hosts").read_text().splitlines() if (base / "hosts").exists() else []
    leases = (base / "leases").read_text().splitlines() if (base / "leases").exists() else []
    return int(pid_text) if pid_text else None, hosts, {line.split()[1] for line in leases if line.strip()}


def test_each_host_serves_dhcp_metadata_and_nat_of_its_own_instances(settings, tmp_path, admin_account, osc,
                                                                      public_interface):
    port = free_port()
    leftover_pids = []

    def before_agents(cloud):
        start_metadata_service(cloud, port)
        call_command("floating", "create", f"--ip_range={RANGE}", "--pool", POOL, "--interface", PUB)

    try:
        with real_guest_cloud(settings, tmp_path, osc, label="mhnet", cidr=CIDR, bridge=BRIDGE, host=HOSTS[0],
                              instance_id_start=INSTANCE_ID_START, network_options={"multi_host": True},
                              servers=("vm-a", "vm-b"), cloud_env={"METADATA_PORT": port},
                              agent_env={"FLOATING_INTERFACE": PUB}, before_agents=before_agents) as env:
            cloud, network = env.cloud, env.network
            cloud.start_agent(HOSTS[1], **AGENT)
            cloud.wait_up(HOSTS)
            try:
                _check_hosts(cloud, network, osc)
            finally:
                for host in HOSTS:
                    pid = _host_dnsmasq(cloud, host, network.pk)[0]
                    if pid:
                        leftover_pids.append(pid)
    finally:
        for pid in leftover_pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for host in HOSTS:
            nat.remove_rules(prefix_for(host))
        metadata_iptables.remove([BRIDGE])


def _check_hosts(cloud, network, osc):
    osc("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", "default")
    guests = {}
    for name, host in (("vm-a", HOSTS[0]), ("vm-b", HOSTS[1])):
        server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny",
                     "--availability-zone", f"nova:{host}", "--wait", name)
        assert server["status"] == "ACTIVE", cloud.logs()
        instance = Instance.objects.get(uuid=server["id"])
        assert instance.host == host
        (address,) = osc("server", "show", name)["addresses"]["mhnet"]
        guests[name] = (instance, host, address, FixedIP.objects.get(instance_uuid=instance.uuid).mac_address)

    # each host holds its own address of the network, on the bridge
    served_from = dict(FixedIP.objects.filter(network=network, hostname=DHCP_SERVER_HOSTNAME)
                       .values_list("host", "address"))
    assert set(served_from) == set(HOSTS) and len(set(served_from.values())) == 2
    on_bridge = linux_bridge.addresses(BRIDGE)
    assert all(f"{address}/24" in on_bridge for address in served_from.values()), on_bridge
    assert network.gateway not in served_from.values()

    for name, (instance, _host, address, _mac) in guests.items():
        marker = f"{builder.MARKER_UP} hostname={name} ip={address}"
        cloud.wait(lambda: marker in osc("console", "log", "show", name, raw=True).stdout, BOOT_TIMEOUT,
                   f"{name}'s lease on its console")
        metadata = f"{builder.MARKER_METADATA} instance-id={instance.ec2_id} hostname={name}.novalocal"
        cloud.wait(lambda: metadata in osc("console", "log", "show", name, raw=True).stdout, BOOT_TIMEOUT,
                   f"{name}'s own instance-id from the metadata service")
        assert osc("console", "log", "show", name, raw=True).stdout.count(f"{builder.MARKER_METADATA} instance-id=") == 1

    # one dnsmasq per host; each one's hosts file and leases hold its own instance only
    pids = set()
    for name, (_instance, host, address, mac) in guests.items():
        pid, hosts, leased = _host_dnsmasq(cloud, host, network.pk)
        assert pid and os.path.exists(f"/proc/{pid}"), f"{host} runs no dnsmasq"
        cmdline = open(f"/proc/{pid}/cmdline").read().split("\0")
        assert f"--listen-address={served_from[host]}" in cmdline
        assert f"--dhcp-option=3,{served_from[host]}" in cmdline  # the host is its instances' gateway
        assert hosts == [f"{mac},{address},{name}"], (host, hosts)
        assert leased == {mac}, (host, leased)
        pids.add(pid)
    assert len(pids) == 2

    # a floating IP's NAT lives on the host of the instance it points to
    for name, (_instance, host, address, _mac) in guests.items():
        floating = osc("floating", "ip", "create", POOL)["floating_ip_address"]
        osc("server", "add", "floating", "ip", name, floating, raw=True)
        other = HOSTS[1] if host == HOSTS[0] else HOSTS[0]

        def nat_on(h, floating=floating, address=address):
            text = "\n".join(line for lines in nat.chain_rules(prefix_for(h)).values() for line in lines)
            return floating in text and address in text

        cloud.wait(lambda: nat_on(host), 30, f"{name}'s floating NAT on {host}")
        assert not nat_on(other), f"{name}'s floating NAT is on {other} too"
