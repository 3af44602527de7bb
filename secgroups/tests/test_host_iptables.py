"""The chains on a real host, with real traffic: a "guest" in a network namespace on a
bridge serves HTTP; the host's requests to it are dropped by the default group, let through
by a rule, dropped again when the rule goes. Regeneration overwrites manual changes and
leaves every rule the project does not own alone; teardown removes everything it wrote."""
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from cloudproj.testing.host_network import filter_table
from cloudproj.testing.servers import API
from network.services import fixed_ips
from network.services import host as network_host
from network.services.networks import create_network
from secgroups.linux import iptables
from secgroups.services import groups, host, rules

HOST = "sg-nshost"
BRIDGE = "cptsg1"
CIDR = "10.236.1.0/24"
NETNS = "cptsgns1"
FOREIGN = "cpsgtest-foreign"  # a chain of "someone else", with a rule in FORWARD


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (iptables, ip netns)"
    for tool in ("iptables", "iptables-restore", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.django_db, pytest.mark.skipif(bool(_missing()), reason=_missing() or "")]


def sh(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=30)


def http(address: str, timeout: float = 2) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{address}:8080/", timeout=timeout) as response:
            return response.read().decode(errors="replace")
    except OSError:
        return None


def wait(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def guest(member_client, boot, tmp_path):
    network = create_network("sgns", CIDR, bridge=BRIDGE, bridge_interface="")
    network_host.ensure_bridge(network)
    server_id = boot(member_client, "nsguest")["server"]["id"]
    from compute.models import Instance
    from compute.services import instances as instance_service

    instance = Instance.objects.get(uuid=server_id)
    instance_service.update_state(instance, host=HOST, node=HOST)
    row = fixed_ips.allocate_fixed_ip(network, instance.uuid, host=HOST, hostname="nsguest")
    sh("ip", "netns", "add", NETNS)
    sh("ip", "link", "add", "cptsgv1", "type", "veth", "peer", "name", "cptsgv1g")
    sh("ip", "link", "set", "cptsgv1g", "netns", NETNS)
    sh("ip", "link", "set", "cptsgv1", "master", BRIDGE)
    sh("ip", "link", "set", "cptsgv1", "up")
    sh("ip", "netns", "exec", NETNS, "ip", "addr", "add", f"{row.address}/24", "dev", "cptsgv1g")
    sh("ip", "netns", "exec", NETNS, "ip", "link", "set", "cptsgv1g", "up")
    sh("ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up")
    (tmp_path / "index.html").write_text("hello from the guest\n")
    server = subprocess.Popen(["ip", "netns", "exec", NETNS, sys.executable, "-m", "http.server", "8080",
                               "--bind", row.address, "--directory", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sh("iptables", "-w", "-N", FOREIGN, check=False)
    sh("iptables", "-w", "-A", FOREIGN, "-s", "192.0.2.1/32", "-j", "RETURN")
    sh("iptables", "-w", "-A", "FORWARD", "-j", FOREIGN)
    try:
        assert wait(lambda: http(row.address) is not None), "the namespace's HTTP server did not come up"
        yield {"instance": instance, "address": row.address}
    finally:
        server.terminate()
        server.wait(10)
        host.teardown(HOST)
        sh("iptables", "-w", "-D", "FORWARD", "-j", FOREIGN, check=False)
        sh("iptables", "-w", "-F", FOREIGN, check=False)
        sh("iptables", "-w", "-X", FOREIGN, check=False)
        sh("ip", "netns", "del", NETNS, check=False)
        sh("ip", "link", "del", "cptsgv1", check=False)
        sh("ip", "link", "del", BRIDGE, check=False)


def test_default_group_then_a_rule_then_no_rule(guest, member_account):
    instance, address = guest["instance"], guest["address"]
    host.after_network(instance, HOST)  # what the boot pipeline's allocate_ip step runs
    top, chain = iptables.host_chain(HOST), iptables.instance_chain(HOST, instance.uuid)
    table = filter_table()
    assert f"-A FORWARD -j {top}" in table and f"-A OUTPUT -j {top}" in table
    assert f"-A {top} -d {address}/32 -o {BRIDGE} -j {chain}" in table
    assert http(address) is None  # refused by the default group

    default = groups.get_by_name(member_account[1].id, "default")
    rule = rules.create_rule(default, ip_protocol="tcp", from_port=8080, to_port=8080, cidr="0.0.0.0/0")
    assert host.refresh_instance(instance.uuid, HOST) == "applied"  # what secgroups.refresh_instance runs
    assert "hello from the guest" in (http(address) or "")

    rules.delete_rule(rule)
    host.refresh_instance(instance.uuid, HOST)
    assert http(address) is None

    # a rule added by hand to the instance's chain is overwritten on regeneration
    sh("iptables", "-w", "-I", chain, "1", "-p", "tcp", "--dport", "8080", "-j", "ACCEPT")
    assert http(address) is not None
    report = host.regenerate(HOST)
    assert report["instances"] == 1 and http(address) is None
    # ... and nothing of anybody else was touched
    table = filter_table()
    assert f"-A FORWARD -j {FOREIGN}" in table and f"-A {FOREIGN} -s 192.0.2.1/32 -j RETURN" in table
    assert table.count(f"-A FORWARD -j {top}") == 1  # jumps are not duplicated

    # teardown of the instance: its chain and jump go, the host chain stays
    host.before_cleanup(instance, HOST)
    assert chain not in filter_table() and f"-N {top}" in filter_table()
    assert http(address) is not None  # no chain any more: nothing filtered (the guest is gone in real life)


def test_stale_chains_of_the_host_are_removed_on_regeneration(guest):
    stale = iptables.instance_chain(HOST, "11111111-1111-1111-1111-111111111111")
    sh("iptables", "-w", "-N", stale)
    sh("iptables", "-w", "-A", stale, "-j", "ACCEPT")
    other_host = iptables.instance_chain("another-host", "22222222-2222-2222-2222-222222222222")
    sh("iptables", "-w", "-N", other_host)
    try:
        report = host.regenerate(HOST)
        assert report["removed"] == [stale]
        assert f"-N {stale}" not in filter_table()
        assert f"-N {other_host}" in filter_table()  # another agent's chain on this machine: untouched
    finally:
        sh("iptables", "-w", "-X", other_host, check=False)


def test_api_changes_reach_the_namespace_through_the_agent_task(guest, member_client,
                                                                django_capture_on_commit_callbacks, monkeypatch):
    """The rule API sends secgroups.refresh_instance to compute.<host>; run what the agent runs."""
    from cloudproj import rpc
    from secgroups import tasks

    monkeypatch.setattr("cloudproj.host.identity.current_host", lambda: HOST)
    ran = []

    class Agent:
        @staticmethod
        def send_task(name, args=None, queue=None, **kwargs):
            assert (name, queue) == ("secgroups.refresh_instance", f"compute.{HOST}")
            ran.append(tasks.refresh_instance(*args))

    monkeypatch.setattr(rpc, "app", Agent)
    instance, address = guest["instance"], guest["address"]
    host.after_network(instance, HOST)
    default_id = member_client.get(f"{API}/os-security-groups").json()["security_groups"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(f"{API}/os-security-group-rules", {"security_group_rule": {
            "parent_group_id": default_id, "ip_protocol": "tcp", "from_port": 8080, "to_port": 8080,
            "cidr": "10.236.1.0/24"}}, format="json")
    assert response.status_code == 200 and ran == ["applied"]
    assert http(address) is not None  # the host's address on the bridge is in 10.236.1.0/24


def test_operator_command_shows_applies_and_removes_a_hosts_chains():
    from io import StringIO

    from django.core.management import call_command

    top = iptables.host_chain("sg-cmdhost")
    out = StringIO()
    call_command("secgroup_chains", "show", "--host", "sg-cmdhost", stdout=out)
    assert out.getvalue() == f"*filter\n:{top} - [0:0]\nCOMMIT\n"
    try:
        call_command("secgroup_chains", "apply", "--host", "sg-cmdhost", stdout=StringIO())
        assert f"-A FORWARD -j {top}" in filter_table() and f"-A OUTPUT -j {top}" in filter_table()
        out = StringIO()
        call_command("secgroup_chains", "remove", "--host", "sg-cmdhost", stdout=out)
        assert out.getvalue().strip() == f"removed 1 chain(s): {top}"
        assert top not in filter_table()
    finally:
        host.teardown("sg-cmdhost")


def test_the_noop_firewall_driver_writes_no_chain_and_filters_nothing(guest, settings):
    """FIREWALL_DRIVER=noop (Nova's NoopFirewallDriver): the default group would drop the
    host's requests, but no chain is written, so they reach the guest."""
    host.regenerate(HOST)
    assert iptables.host_chain(HOST) in iptables.chains_of(HOST)
    assert http(guest["address"]) is None  # the default group drops it
    host.teardown(HOST)

    settings.FIREWALL_DRIVER = "noop"
    assert host.regenerate(HOST) == {"host": HOST, "instances": 0, "removed": [], "firewall_driver": "noop"}
    host.after_network(guest["instance"], HOST)
    assert host.refresh_instance(guest["instance"].uuid, HOST) == "skipped: FIREWALL_DRIVER is noop"
    assert iptables.chains_of(HOST) == set()
    assert "hello from the guest" in (http(guest["address"]) or "")
