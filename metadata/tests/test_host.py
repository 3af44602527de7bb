"""What an agent sets up: the metadata rule of each network its host serves (at start, then
supervised) and of a new instance's networks served here (the after_network host hook)."""
import subprocess
import time

import pytest

from cloudproj.testing.host_network import iptables_missing
from compute.models import Instance
from cloudproj.host import periodic
from metadata.services.host import after_network, ensure_host_rules, on_agent_start
from metadata.linux import iptables
from network.services.fixed_ips import allocate_fixed_ip
from network.services.networks import create_network

MISSING = iptables_missing()

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(MISSING), reason=MISSING or "")]


def dnat(bridge: str, target: str) -> list[str]:
    return [f"-A {iptables.chain()} -d 169.254.169.254/32 -i {bridge} -p tcp -m tcp --dport 80 "
            f"-j DNAT --to-destination {target}"]


def test_after_network_covers_the_instance_networks_this_host_serves(db, settings, bridges, member_account):
    settings.METADATA_PORT = 8999
    here = create_network("md-here", "10.237.210.0/24", bridge=bridges())
    there = create_network("md-there", "10.237.211.0/24", bridge=bridges(), host="other-host")
    user, project, _token = member_account
    instance = Instance.objects.create(display_name="vm", hostname="vm", project=project, user=user, flavorid="1",
                                       flavor_name="m1.tiny", memory_mb=512, vcpus=1, reservation_id="r-1")
    for network in (here, there):
        allocate_fixed_ip(network, instance.uuid, host="md-unit", hostname="vm")

    after_network(instance, "md-unit")
    assert iptables.rules_of(here.bridge)["nat"] == dnat(here.bridge, "10.237.210.1:8999")
    assert iptables.rules_of(there.bridge)["nat"] == []  # the network host's agent does that one
    after_network(instance, "md-unit")  # idempotent
    assert iptables.rules_of(here.bridge)["nat"] == dnat(here.bridge, "10.237.210.1:8999")

    # the network host: every network it serves (its own and the host-less ones); METADATA_HOST
    # sends them all to one service
    settings.METADATA_HOST = "192.0.2.10"
    report = ensure_host_rules("other-host")
    assert set(report["bridges"]) == {here.bridge, there.bridge} and report["changed"]
    assert iptables.rules_of(there.bridge)["nat"] == dnat(there.bridge, "192.0.2.10:8999")
    assert iptables.rules_of(here.bridge)["filter"] == [
        f"-A {iptables.chain()} -d 192.0.2.10/32 -i {here.bridge} -p tcp -m tcp --dport 8999 -j ACCEPT"]


@pytest.mark.django_db(transaction=True)  # the hook closes its DB connection
def test_an_agent_sets_the_rules_up_when_ready_and_puts_back_what_was_removed(settings, bridges):
    settings.NETWORK_SUPERVISE_INTERVAL = 0.3
    network = create_network("md-agent", "10.237.212.0/24", bridge=bridges(), host="md-agent")

    assert iptables.rules_of(network.bridge)["nat"] == []
    try:
        on_agent_start("md-agent")  # what compute.agent runs for a worker named agent@md-agent
        (rule,) = iptables.rules_of(network.bridge)["nat"]
        assert rule == dnat(network.bridge, "10.237.212.1:8775")[0]
        # removed by hand: the agent's supervision puts it back
        subprocess.run(["iptables", "-t", "nat", "-D", *rule.split()[1:]], check=True)
        assert iptables.rules_of(network.bridge)["nat"] == []
        deadline = time.monotonic() + 10
        while not iptables.rules_of(network.bridge)["nat"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert iptables.rules_of(network.bridge)["nat"] == [rule]
    finally:
        periodic.stop_all()
