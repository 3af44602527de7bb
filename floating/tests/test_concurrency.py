"""Concurrent allocations (threads with their own DB connections): an address is never handed
out twice, and the quota holds under the race."""
from types import SimpleNamespace

import pytest

from cloudproj.testing.threads import run_threads
from floating.models import FloatingIP
from floating.services import FloatingOverQuota, NoMoreFloatingIps, addresses, ranges
from identity.services import quotas, accounts

pytestmark = pytest.mark.django_db(transaction=True)


def ctx_of(project):
    return SimpleNamespace(project_id=project.id, is_admin=False)


def test_an_address_is_never_handed_out_twice():
    ranges.create_range("203.0.113.0/28", pool="race")  # 14 addresses
    projects = [accounts.create_project(f"race{i}") for i in range(20)]
    results, errors = run_threads(20, lambda i: addresses.allocate(ctx_of(projects[i]), "race"))
    got = [row.address for row in results if row is not None]
    assert len(got) == 14 and len(set(got)) == 14
    failed = [e for e in errors if e is not None]
    assert len(failed) == 6 and all(isinstance(e, NoMoreFloatingIps) for e in failed), failed
    assert FloatingIP.objects.filter(project__isnull=False).count() == 14
    # the projects that got nothing reserved nothing either
    for project, row in zip(projects, results):
        assert quotas.get_usages(project)["floating_ips"] == {"in_use": 1 if row else 0, "reserved": 0}


def test_the_quota_holds_under_concurrency():
    ranges.create_range("203.0.113.0/27", pool="race")
    project = accounts.create_project("greedy")
    quotas.set_quota(project, "floating_ips", 5)
    results, errors = run_threads(16, lambda i: addresses.allocate(ctx_of(project), "race"))
    assert len([r for r in results if r is not None]) == 5
    assert all(isinstance(e, FloatingOverQuota) for e in errors if e is not None)
    assert FloatingIP.objects.filter(project=project).count() == 5
    assert quotas.get_usages(project)["floating_ips"] == {"in_use": 5, "reserved": 0}
