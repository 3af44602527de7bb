"""How one fleet process acts for many hosts, without a broker: the host comes from the queue
that delivered the task, and the driver from that host (compute/fleet.py)."""
import threading

import pytest

from cloudproj.exceptions import Invalid
from cloudproj.host import identity
from compute import fleet
from compute.services import host_resources


@pytest.fixture
def two_hosts(monkeypatch):
    monkeypatch.setitem(fleet._fleet, "hosts", frozenset({"fl-00", "fl-01"}))
    drivers = {"fl-00": object(), "fl-01": object()}
    monkeypatch.setattr(host_resources, "_host_drivers", dict(drivers))
    monkeypatch.setattr(host_resources, "_driver", "process-wide")
    return drivers


def test_a_task_acts_for_the_host_of_its_queue_and_gets_that_hosts_driver(two_hosts, settings):
    assert fleet.host_of_delivery({"routing_key": "compute.fl-01"}) == "fl-01"
    assert fleet.host_of_delivery({"routing_key": "network.fl-00"}) == "fl-00"
    # not a host queue of this fleet: the thread acts for nobody in particular
    for key in ("scheduler", "compute.elsewhere", "compute", "image.fl-00", ""):
        assert fleet.host_of_delivery({"routing_key": key}) is None
    assert fleet.host_of_delivery(None) is None

    with identity.acting_for("fl-01"):
        assert identity.current_host() == "fl-01"
        assert host_resources.driver() is two_hosts["fl-01"]
        with identity.acting_for("fl-00"):
            assert host_resources.driver() is two_hosts["fl-00"]
        assert identity.current_host() == "fl-01"
    assert identity.current_host() == settings.CLOUD_HOST
    assert host_resources.driver() == "process-wide"


def test_each_thread_acts_for_its_own_host(two_hosts):
    seen = {}
    barrier = threading.Barrier(2)

    def work(host):
        with identity.acting_for(host):
            barrier.wait(timeout=10)  # both threads inside at once
            seen[host] = (identity.current_host(), host_resources.driver())

    threads = [threading.Thread(target=work, args=(host,)) for host in ("fl-00", "fl-01")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {host: (host, two_hosts[host]) for host in ("fl-00", "fl-01")}


def test_host_names_are_checked():
    assert fleet.host_names(3, "rack1-") == ["rack1-00", "rack1-01", "rack1-02"]
    assert fleet.host_names(101, "h")[-1] == "h100"
    with pytest.raises(Invalid):
        fleet.host_names(2, "bad name;")
    with pytest.raises(ValueError):
        fleet.host_names(0)


@pytest.mark.parametrize("argv, message", [
    (["--simulate", "2", "--prefix", "bad;"], "--prefix"),
    (["--simulate", "2", "--host-vcpus", "0"], "at least 1"),
    (["--simulate", "-3"], "at least 1"),
])
def test_agent_simulate_refuses_bad_arguments_before_registering_anything(argv, message):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=message):
        call_command("agent", *argv)
    assert fleet._fleet["heartbeat"] is None


@pytest.mark.django_db
def test_one_heartbeat_for_many_services_registers_again_what_an_operator_deleted():
    from compute.models import Service
    from compute.services import hosts

    services = [hosts.register_service(host, "nova-compute") for host in ("hb-00", "hb-01")]
    before = {s.host: s.report_count for s in Service.objects.filter(host__in=["hb-00", "hb-01"])}
    assert hosts.heartbeat_many(services) == services
    after = {s.host: s.report_count for s in Service.objects.filter(host__in=["hb-00", "hb-01"])}
    assert after == {host: count + 1 for host, count in before.items()}

    Service.objects.filter(host="hb-01").delete()
    renewed = hosts.heartbeat_many(services)
    assert renewed[0] is services[0] and renewed[1].host == "hb-01" and renewed[1].pk != services[1].pk
    assert Service.objects.filter(host="hb-01", binary="nova-compute").exists()
