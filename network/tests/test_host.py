"""Real host networking: bridges, dnsmasq and a real DHCP exchange from a network namespace."""
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from cloudproj.testing.host_network import guest, host_networking_missing, sh, udhcpc, unique
from network.linux import bridge as linux_bridge
from network.linux import dnsmasq
from network.validate import InvalidValue
from network.models import FixedIP
from network.services import fixed_ips, host, networks
from network.signals import on_agent_start, on_worker_shutdown

missing = host_networking_missing()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(missing), reason=missing or "")]


@pytest.fixture
def test_network(db, networks_path, host_links):
    br = unique("br")
    host_links["links"].append(br)
    network = networks.create_network("dhcp-test", "10.200.30.0/24", bridge=br, bridge_interface="",
                                      dns1="10.200.30.1")
    yield network
    dnsmasq.stop(network.pk)


def test_bridge_is_idempotent_and_validates_names(host_links):
    br = unique("br")
    host_links["links"].append(br)
    assert linux_bridge.ensure_bridge(br, "10.200.31.1/24") is True
    assert linux_bridge.ensure_bridge(br, "10.200.31.1/24") is False
    assert linux_bridge.addresses(br) == ["10.200.31.1/24"]
    assert Path(f"/sys/class/net/{br}/operstate").exists()
    port = unique("p")
    host_links["links"].append(port)
    sh("ip", "link", "add", port, "type", "veth", "peer", "name", port + "x")
    linux_bridge.ensure_bridge(br, "10.200.31.1/24", interface=port)
    assert linux_bridge.master_of(port) == br
    assert linux_bridge.delete_bridge(br) is True
    assert not linux_bridge.exists(br) and linux_bridge.delete_bridge(br) is False
    for bad in ("a" * 16, "br0;reboot", "../x"):
        with pytest.raises(InvalidValue):
            linux_bridge.ensure_bridge(bad)


def test_hosts_file_refuses_bad_values(networks_path):
    with pytest.raises(InvalidValue):
        dnsmasq.write_hosts(1, [("fa:16:3e:00:00:01", "10.200.30.5", "bad host\n")])
    with pytest.raises(InvalidValue):
        dnsmasq.write_hosts(1, [("fa:16:3e:00:00:zz", "10.200.30.5", "ok")])
    with pytest.raises(InvalidValue):
        dnsmasq.write_hosts(1, [("fa:16:3e:00:00:01", "10.200.30.500", "ok")])


def test_real_dhcp_exchange_release_and_supervision(test_network, host_links, tmp_path):
    network = test_network
    vm = uuid.uuid4()
    fixed_ips.allocate_fixed_ip(network, uuid.uuid4(), host="h1", hostname="other")  # takes .2
    ip = fixed_ips.allocate_fixed_ip(network, vm, host="h1", hostname="vm1")
    assert ip.address == "10.200.30.3"
    report = host.setup_network(network, "h1")
    assert report["bridge"] == "created" and report["dnsmasq"] == "started"
    assert host.setup_network(network, "h1")["dnsmasq"] == "unchanged"
    assert f"{ip.mac_address},10.200.30.3,vm1" in dnsmasq.paths(network.pk)["hosts"].read_text()

    ns, ifname = guest(host_links, network.bridge, ip.mac_address)
    lease, proc = udhcpc(ns, ifname, tmp_path)
    assert lease is not None, proc.stderr
    assert lease == ["10.200.30.3", "255.255.255.0", "10.200.30.1"]
    assert dnsmasq.read_leases(network.pk).get(ip.mac_address) == "10.200.30.3"
    host.supervise_host_networks("h1")
    assert FixedIP.objects.get(pk=ip.pk).leased is True

    # an unknown MAC gets nothing (static range: only the hosts file's instances)
    ns2, if2 = guest(host_links, network.bridge, "fa:16:3e:de:ad:01")
    lease2, _ = udhcpc(ns2, if2, tmp_path / "..")
    assert lease2 is None

    # release + refresh: the entry leaves the hosts file and dnsmasq is reloaded
    pid_before = dnsmasq.pid(network.pk)
    fixed_ips.release_fixed_ip(vm)
    assert host.refresh_dhcp(network, "h1") == "reloaded"
    assert ip.mac_address not in dnsmasq.paths(network.pk)["hosts"].read_text()
    assert dnsmasq.pid(network.pk) == pid_before
    # ... and its lease is released (dhcp_release, scripts/host-packages.sh): dnsmasq rewrites
    # its lease file without it
    assert dnsmasq.release_binary(), "dhcp_release is missing: make host-packages (dnsmasq-utils)"
    deadline = time.monotonic() + 10
    while ip.mac_address in dnsmasq.read_leases(network.pk) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ip.mac_address not in dnsmasq.read_leases(network.pk)

    # killed dnsmasq: supervision starts a new one
    os.kill(pid_before, signal.SIGKILL)
    for _ in range(50):
        if not dnsmasq.is_running(network.pk):
            break
        time.sleep(0.05)
    assert not dnsmasq.is_running(network.pk)
    report = host.supervise_host_networks("h1")
    assert report[network.pk]["dnsmasq"] == "started"
    new_pid = dnsmasq.pid(network.pk)
    assert new_pid and new_pid != pid_before


@pytest.mark.django_db(transaction=True)  # the hook closes its DB connection
def test_worker_ready_recreates_a_deleted_bridge_and_dnsmasq_then_supervises(test_network, settings):
    settings.NETWORK_SUPERVISE_INTERVAL = 0.5
    network = test_network
    host.setup_network(network, "h1")
    linux_bridge.delete_bridge(network.bridge)
    dnsmasq.stop(network.pk)
    assert not linux_bridge.exists(network.bridge)

    assert not linux_bridge.exists(network.bridge)
    try:
        report = on_agent_start("h1")  # what compute.agent runs for a worker named agent@h1
        assert report[network.pk]["bridge"] == "created"
        assert linux_bridge.addresses(network.bridge) == ["10.200.30.1/24"]
        assert dnsmasq.is_running(network.pk)
        # the agent's supervision restarts a dnsmasq that died
        dnsmasq.stop(network.pk)
        deadline = time.monotonic() + 10
        while not dnsmasq.is_running(network.pk) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert dnsmasq.is_running(network.pk)
    finally:
        on_worker_shutdown()


def test_supervision_stops_dnsmasq_of_a_deleted_network(test_network):
    network = test_network
    host.setup_network(network, "h1")
    networks.delete_network(network)
    report = host.supervise_host_networks("h1")
    assert report[network.pk]["dnsmasq"] == "stopped"
    assert not dnsmasq.is_running(network.pk)
    assert not linux_bridge.exists(network.bridge)


def test_tasks_and_pipeline_helper_converge(test_network):
    from network import tasks

    network = test_network
    ip = fixed_ips.allocate_fixed_ip(network, uuid.uuid4(), host="h1", hostname="vm9")
    assert host.prepare_instance_network(network, "h1") == "local:started"
    assert f"{ip.mac_address},{ip.address},vm9" in dnsmasq.paths(network.pk)["hosts"].read_text()
    result = tasks.setup_network.apply(args=[network.pk, "h1"]).get()
    assert result == {"network": network.pk, "bridge": "present", "dnsmasq": "unchanged"}
    fixed_ips.release_fixed_ip(ip.instance_uuid)
    assert tasks.refresh_dhcp.apply(args=[network.pk, "h1"]).get() == "reloaded"
    assert dnsmasq.read_hosts(network.pk) == []
