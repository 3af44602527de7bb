"""The quota engine under concurrent requests: real threads, each with its own DB connection."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from identity.services import quotas, accounts
from identity.models import QuotaUsage

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(count, func):
    """Run func(i) in `count` threads released together; returns results (or exceptions)."""
    barrier = threading.Barrier(count)

    def worker(i):
        try:
            barrier.wait(timeout=30)
            return func(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def usage_sum(project_id, resource):
    row = QuotaUsage.objects.filter(project_id=project_id, resource=resource).first()
    return (row.in_use + row.reserved) if row else 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
def test_ten_threads_reserving_one_instance_against_quota_five():
    project = accounts.create_project("race")
    quotas.set_quota(project, "instances", 5)
    seen = []
    stop = threading.Event()

    def watch():
        # Sample what other transactions have committed while the race runs.
        while not stop.is_set():
            seen.append(usage_sum(project.id, "instances"))
        connections.close_all()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = run_in_threads(10, lambda i: quotas.reserve(project.id, {"instances": 1}))
    finally:
        stop.set()
        watcher.join()

    ok = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, quotas.OverQuota)]
    assert len(ok) == 5 and len(refused) == 5, results
    assert all(r.overs == ["instances"] for r in refused)
    assert quotas.get_usages(project)["instances"] == {"in_use": 0, "reserved": 5}
    assert max(seen, default=0) <= 5
    assert QuotaUsage.objects.filter(project=project, resource="instances").count() == 1

    # Committing half and rolling back the rest, concurrently, lands exactly.
    results = run_in_threads(5, lambda i: (quotas.commit if i % 2 else quotas.rollback)(ok[i]))
    assert results == [None] * 5
    assert quotas.get_usages(project)["instances"] == {"in_use": 2, "reserved": 0}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
def test_multi_resource_reservations_in_any_order_do_not_deadlock():
    project = accounts.create_project("race2")
    quotas.set_quotas(project, {"instances": 6, "cores": 100, "ram": 100})

    def reserve(i):
        deltas = [("instances", 1), ("cores", 2), ("ram", 3)]
        if i % 2:
            deltas.reverse()
        uuid = quotas.reserve(project.id, dict(deltas))
        quotas.commit(uuid)
        return uuid

    results = run_in_threads(12, reserve)
    assert sum(isinstance(r, str) for r in results) == 6
    assert all(isinstance(r, (str, quotas.OverQuota)) for r in results), results
    usages = quotas.get_usages(project)
    assert usages["instances"] == {"in_use": 6, "reserved": 0}
    assert usages["cores"] == {"in_use": 12, "reserved": 0}
    assert usages["ram"] == {"in_use": 18, "reserved": 0}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
def test_double_commit_applies_once():
    project = accounts.create_project("race3")
    uuid = quotas.reserve(project.id, {"instances": 1})
    results = run_in_threads(4, lambda i: quotas.commit(uuid))
    assert results.count(None) == 1
    assert sum(isinstance(r, quotas.ReservationNotFound) for r in results) == 3
    assert quotas.get_usages(project)["instances"] == {"in_use": 1, "reserved": 0}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
def test_lowering_a_limit_races_safely_with_reservations():
    project = accounts.create_project("race4")
    quotas.set_quota(project, "instances", 10)

    def work(i):
        if i == 0:
            return quotas.set_quota(project.id, "instances", 3)
        return quotas.reserve(project.id, {"instances": 1})

    results = run_in_threads(6, work)
    limit = quotas.get_quotas(project)["instances"]
    used = usage_sum(project.id, "instances")
    # Either the lowering won (then at most 3 reservations fit) or it was refused.
    if results[0] == 3:
        assert limit == 3 and used <= 3
    else:
        assert isinstance(results[0], quotas.InvalidQuotaValue) and limit == 10
    assert used == sum(isinstance(r, str) for r in results[1:])
