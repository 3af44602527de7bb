"""Concurrent allocation: threads with their own DB connections never share an address."""
import uuid

import pytest

from cloudproj.testing.threads import run_threads
from network.models import FixedIP
from network.services import NoMoreFixedIps, fixed_ips, networks

pytestmark = pytest.mark.django_db(transaction=True)


def test_forty_concurrent_allocations_get_distinct_addresses():
    network = networks.create_network("conc", "10.200.20.0/26", bridge="cptconc1", bridge_interface="")
    vms = [uuid.uuid4() for _ in range(40)]
    results, errors = run_threads(40, lambda i: fixed_ips.allocate_fixed_ip(network, vms[i], "h1", f"vm{i}"))
    assert errors == [None] * 40
    addresses = [row.address for row in results]
    assert len(set(addresses)) == 40
    assert len({row.mac_address for row in results}) == 40
    db = FixedIP.objects.filter(network=network, allocated=True)
    assert db.count() == 40
    assert {str(u) for u in db.values_list("instance_uuid", flat=True)} == {str(v) for v in vms}


def test_exhaustion_under_concurrency_is_a_clear_error_and_nothing_is_duplicated():
    network = networks.create_network("small", "10.200.21.0/27", bridge="cptconc2", bridge_interface="")
    usable = FixedIP.objects.filter(network=network, reserved=False).count()
    assert usable == 29
    results, errors = run_threads(40, lambda i: fixed_ips.allocate_fixed_ip(network, uuid.uuid4()))
    got = [r.address for r in results if r is not None]
    failed = [e for e in errors if e is not None]
    assert len(got) == 29 and len(set(got)) == 29
    assert len(failed) == 11
    assert all(isinstance(e, NoMoreFixedIps) for e in failed), failed
    assert "No fixed IP addresses available for network small" in str(failed[0])
    assert FixedIP.objects.filter(network=network, allocated=True).count() == 29


def test_redelivered_allocations_for_one_instance_converge_on_one_address():
    network = networks.create_network("same", "10.200.22.0/26", bridge="cptconc3", bridge_interface="")
    vm = uuid.uuid4()
    results, errors = run_threads(12, lambda i: fixed_ips.allocate_fixed_ip(network, vm, "h1", "vm"))
    assert errors == [None] * 12
    assert len({(r.address, r.mac_address) for r in results}) == 1
    assert FixedIP.objects.filter(network=network, allocated=True).count() == 1
    released, errors = run_threads(8, lambda i: fixed_ips.release_fixed_ip(vm))
    assert errors == [None] * 8
    assert sum(len(r) for r in released) == 1  # released exactly once
