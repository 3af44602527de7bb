"""Two clouds on one machine (issue 17 part 4): each one's bridges, dnsmasq, metadata rules,
floating NAT and security-group chains are its own, and one cloud's setup and teardown
(`./manage.py host_teardown`, what `make run` runs when it stops and starts) leave the other's
untouched; a teardown after a killed run (dnsmasq still running, chains in place, the pid
file gone) sweeps it all and the network can be served again.

Everything here is real: bridges, dnsmasq, iptables-restore (under the host lock)."""
import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command

from cloudproj.host import iptables as host_iptables
from cloudproj.testing.host_network import host_networking_missing, iptables_missing, unique
from floating.linux import nat
from floating.services import host as floating_host
from metadata.linux import iptables as metadata_iptables
from metadata.services.host import ensure_host_rules
from network.linux import dnsmasq
from network.services.host import setup_network, supervise_host_networks
from network.services.networks import create_network
from secgroups.linux import iptables as secgroups_iptables

MISSING = host_networking_missing() or iptables_missing()

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(MISSING), reason=MISSING or "")]


class Cloud:
    """One cloud's settings (CLOUD_NAME, NETWORKS_PATH) and its network on host `host`."""

    def __init__(self, settings, letter: str, cidr: str):
        self.settings = settings
        self.name = f"cpt{letter}{secrets.token_hex(3)}"
        self.host = f"iso-{letter}-{secrets.token_hex(2)}"
        self.path = tempfile.mkdtemp(prefix=f"cpt-iso-{letter}-", dir="/tmp")
        os.chmod(self.path, 0o755)
        with self.active():
            self.network = create_network(f"iso-{letter}", cidr, bridge=unique("i" + letter), host=self.host)

    @contextmanager
    def active(self):
        before = self.settings.CLOUD_NAME, self.settings.NETWORKS_PATH
        self.settings.CLOUD_NAME, self.settings.NETWORKS_PATH = self.name, self.path
        try:
            yield self
        finally:
            self.settings.CLOUD_NAME, self.settings.NETWORKS_PATH = before

    def set_up(self) -> None:
        """What its agent does: bridge + dnsmasq, metadata rules, floating NAT and security-group chains."""
        with self.active():
            setup_network(self.network, self.host)
            ensure_host_rules(self.host)
            nat.apply_rules([], floating_host.prefix_for(self.host))
            secgroups_iptables.apply_host(self.host, [])

    def state(self) -> dict:
        """Everything of this cloud on the host, as iptables and /proc show it."""
        with self.active():
            chains = {table: sorted(c for c in host_iptables.chains(table) if self._ours(c)) for table in ("nat", "filter")}
            return {
                "dnsmasq": dnsmasq.processes_under(self.path),
                "chains": chains,
                "rules": {(table, chain): host_iptables.rules(table, chain) for table in ("nat", "filter")
                          for chain in chains[table]},
                "jumps": sorted(line for builtin in ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")
                                for table in ("nat", "filter")
                                for line in (host_iptables.listing(table, builtin) or [])
                                if any(line.endswith(f"-j {c}") for c in chains[table])),
            }

    def _ours(self, chain: str) -> bool:
        return (chain == metadata_iptables.chain() or chain.startswith(floating_host.prefix_for(self.host))
                or chain.startswith(secgroups_iptables.host_chain(self.host)))

    def teardown(self, *extra: str) -> str:
        """`./manage.py host_teardown` as this cloud."""
        out = StringIO()
        with self.active():
            call_command("host_teardown", "--host", self.host, *extra, stdout=out)
        return out.getvalue()

    def clean(self) -> None:
        try:
            self.teardown("--firewall", "remove")
        finally:
            subprocess.run(["ip", "link", "del", self.network.bridge], capture_output=True)
            shutil.rmtree(self.path, ignore_errors=True)


@pytest.fixture
def clouds(db, settings):
    made = []

    def make(letter, cidr):
        made.append(Cloud(settings, letter, cidr))
        return made[-1]

    yield make
    for cloud in made:
        cloud.clean()


def test_one_clouds_setup_and_teardown_leave_the_others_host_state_alone(clouds):
    first = clouds("a", "10.237.230.0/24")
    first.set_up()
    before = first.state()
    assert len(before["dnsmasq"]) == 1
    with first.active():
        floating = floating_host.prefix_for(first.host)
    assert floating.startswith("cpfip-") and floating != "cpfip-" + hashlib.sha1(first.host.encode()).hexdigest()[:6]
    assert before["chains"]["nat"] == sorted([f"{first.name}-metadata",
                                              *(f"{floating}-{suffix}" for suffix in ("out", "post", "pre"))])
    assert f"{first.name}-metadata" in before["chains"]["filter"]
    (dnat,) = before["rules"][("nat", f"{first.name}-metadata")]
    assert f"-i {first.network.bridge} " in dnat and "--to-destination 10.237.230.1:" in dnat
    assert len(before["jumps"]) == 7  # metadata x2, floating x3, security groups x2

    second = clouds("b", "10.237.231.0/24")
    second.set_up()
    (second_pid,) = second.state()["dnsmasq"]
    assert second.state()["chains"]["nat"] and second_pid not in before["dnsmasq"]
    assert first.state() == before  # the second cloud's setup did not touch the first's

    report = second.teardown("--firewall", "remove")
    assert f"cloud {second.name} on {second.host}:" in report and f"dnsmasq stopped: {second_pid}" in report
    after = second.state()
    assert after["dnsmasq"] == [] and after["chains"] == {"nat": [], "filter": []} and after["jumps"] == []
    assert first.state() == before  # ... nor did its teardown


def test_a_start_after_a_killed_run_sweeps_what_it_left_and_serves_again(clouds):
    cloud = clouds("k", "10.237.232.0/24")
    cloud.set_up()
    left = cloud.state()
    (pid,) = left["dnsmasq"]
    # a run killed with -9 leaves its dnsmasq (a daemon) and every chain; its pid file may be gone too
    with cloud.active():
        dnsmasq.paths(cloud.network.pk)["pid"].unlink()
        assert dnsmasq.pid(cloud.network.pk) is None  # the agent would no longer see it...
    # ... and a new dnsmasq cannot bind the bridge address (the failure of the issue), which
    # `./manage.py health` now says
    with cloud.active():
        report = supervise_host_networks(cloud.host)
        assert "Address already in use" in report[cloud.network.pk]["error"]
        code, line = health()
    assert code == 2 and "1 network(s) not served" in line and "Address already in use" in line
    assert cloud.network.bridge in line

    output = cloud.teardown("--firewall", "keep")  # what make run runs before it starts anything
    assert str(pid) in output
    swept = cloud.state()
    assert swept["dnsmasq"] == []  # gone, or a zombie waiting for its reaper (its sockets closed)
    with cloud.active():
        kept = secgroups_iptables.host_chain(cloud.host)  # --firewall keep: the agent rewrites it
    assert swept["chains"]["nat"] == [] and swept["chains"]["filter"] == [kept]

    with cloud.active():  # the next start serves the network again, and health says so
        assert "error" not in supervise_host_networks(cloud.host)[cloud.network.pk]
        assert "networks served" in health()[1]
    assert len(cloud.state()["dnsmasq"]) == 1


def health() -> tuple[int, str]:
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("health", "--disk-warning", "0", "--disk-critical", "0", stdout=out)
    return exit_info.value.code, out.getvalue().strip()
