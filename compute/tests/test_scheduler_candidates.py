"""The scheduler's candidates narrowed and ranked in PostgreSQL (compute/scheduler/candidates.py):
the SQL rules never drop a host the Python filters would keep, the best candidates come
back, and with a window at least as large as the passing hosts the choice equals a full pass."""
import random

import pytest

from cloudproj.testing.factories import make_host
from compute.scheduler import NoValidHost, RequestSpec
from compute.scheduler.candidates import candidate_states
from compute.scheduler.filter_scheduler import FilterScheduler

pytestmark = pytest.mark.django_db


def full_pass(spec) -> list[str]:
    """What the scheduler picks when it reads every host (SCHEDULER_MAX_CANDIDATES 0)."""
    from django.conf import settings

    saved, settings.SCHEDULER_MAX_CANDIDATES = settings.SCHEDULER_MAX_CANDIDATES, 0
    try:
        return [h.host for h in FilterScheduler().select_hosts(spec)]
    finally:
        settings.SCHEDULER_MAX_CANDIDATES = saved


def random_hosts(rng, count):
    for i in range(count):
        memory_mb = rng.choice([1024, 2048, 3072, 4096, 5000])
        vcpus = rng.choice([0, 1, 2, 4, 8])
        make_host(
            f"r{i:03d}", vcpus=vcpus, memory_mb=memory_mb, local_gb=rng.choice([0, 10, 20, 40]),
            zone=rng.choice(["nova", "az1", ""]), disabled=rng.random() < 0.1, up=rng.random() > 0.1,
            vcpus_used=rng.randint(0, max(vcpus, 1) * 20), memory_mb_used=rng.randint(0, memory_mb * 2),
            local_gb_used=rng.randint(0, 40), num_instances=rng.randint(0, 52),
        )


@pytest.mark.parametrize("ratios", [(16.0, 1.5, 1.0), (1.3, 1.1, 0.9)])
def test_the_sql_rules_never_drop_a_host_the_filters_keep(settings, ratios):
    settings.CPU_ALLOCATION_RATIO, settings.RAM_ALLOCATION_RATIO, settings.DISK_ALLOCATION_RATIO = ratios
    settings.SCHEDULER_MAX_CANDIDATES = 119  # fewer than the hosts: select_hosts takes the SQL path
    rng = random.Random(7)
    random_hosts(rng, 120)
    scheduler = FilterScheduler()
    for _ in range(40):
        spec = RequestSpec(
            memory_mb=rng.choice([256, 512, 1024, 2048]), vcpus=rng.choice([1, 2, 4]),
            root_gb=rng.choice([0, 1, 5, 20]), swap=rng.choice([0, 512]),
            availability_zone=rng.choice([None, "nova", "az1"]),
            retry={"hosts": [[f"r{rng.randint(0, 119):03d}", "n"]]},
        )
        candidates, more = candidate_states(scheduler.filters, scheduler.weighers, spec, limit=1000)
        assert not more
        kept = {h.host for h in scheduler.filter_hosts(scheduler.host_states(spec), spec)[0]}
        assert kept <= {h.host for h in candidates}, spec
        try:
            chosen = [h.host for h in scheduler.select_hosts(spec)]
        except NoValidHost:
            chosen = []
        assert chosen == (full_pass(spec) if kept else []), spec


def test_only_the_best_candidates_are_read(settings):
    settings.SCHEDULER_MAX_CANDIDATES = 3
    for i, used in enumerate([2048, 0, 1024, 512, 1536, 256]):
        make_host(f"h{i}", memory_mb=4096, memory_mb_used=used)
    scheduler = FilterScheduler()
    spec = RequestSpec(memory_mb=512, vcpus=1)
    states, more = candidate_states(scheduler.filters, scheduler.weighers, spec)
    assert more and sorted(h.host for h in states) == ["h1", "h3", "h5"]  # the most free RAM
    assert [h.host for h in scheduler.select_hosts(spec)] == ["h1", "h5", "h3"]
    assert full_pass(spec)[:3] == ["h1", "h5", "h3"]


def test_a_host_beyond_the_window_is_found_when_the_candidates_fail(settings):
    """ImagePropertiesFilter has no SQL form: it can remove every candidate; then the full
    pass finds the host further down the ranking."""
    settings.SCHEDULER_MAX_CANDIDATES = 2
    make_host("big1", memory_mb=8192, arch="aarch64")
    make_host("big2", memory_mb=8192, arch="aarch64")
    make_host("small", memory_mb=2048, arch="x86_64")
    spec = RequestSpec(memory_mb=512, vcpus=1, image={"properties": {"architecture": "x86_64"}})
    assert [h.host for h in FilterScheduler().select_hosts(spec)] == ["small"]


def test_forced_hosts_and_the_default_zone(settings):
    settings.SCHEDULER_MAX_CANDIDATES = 2
    make_host("empty-zone", zone="")
    make_host("named", zone="nova")
    make_host("elsewhere", zone="az1")
    scheduler = FilterScheduler()
    in_nova = RequestSpec(memory_mb=512, vcpus=1, availability_zone="nova")
    assert sorted(h.host for h in scheduler.select_hosts(in_nova)) == ["empty-zone", "named"]
    forced = RequestSpec(memory_mb=512, vcpus=1, force_hosts=["elsewhere"])
    assert [h.host for h in scheduler.select_hosts(forced)] == ["elsewhere"]
    with pytest.raises(NoValidHost, match=r"\(1 host: AvailabilityZoneFilter removed 1\)"):
        scheduler.select_hosts(RequestSpec(memory_mb=512, vcpus=1, availability_zone="nova", force_hosts=["elsewhere"]))


@pytest.mark.parametrize("instances_multiplier", [-1.0, 1.0, 0.0])
def test_the_sampled_cut_returns_the_same_window_as_ranking_every_host(settings, instances_multiplier):
    """Past SAMPLE x (window + 1) hosts the ranking reads a sample down the lead weight's
    index and ranks only the hosts that can beat the sample's window (candidates.cuts): the
    window must be the one a ranking of every passing host gives, whatever the data."""
    settings.NUM_INSTANCES_WEIGHT_MULTIPLIER = instances_multiplier
    rng = random.Random(21)
    random_hosts(rng, 120)
    scheduler = FilterScheduler()
    for _ in range(25):
        spec = RequestSpec(memory_mb=rng.choice([256, 512, 1024]), vcpus=rng.choice([1, 2]),
                           availability_zone=rng.choice([None, "nova"]))
        limit = rng.choice([3, 5, 10])
        sampled, more = candidate_states(scheduler.filters, scheduler.weighers, spec, limit=limit, count=120)
        every, more_every = candidate_states(scheduler.filters, scheduler.weighers, spec, limit=limit, count=0)
        assert [h.host for h in sampled] == [h.host for h in every], spec
        assert more == more_every


def test_placement_queries_do_not_grow_with_the_hosts(settings, django_assert_max_num_queries):
    """The SQL path: the same handful of queries at 30 hosts as at 300 (no per-host query)."""
    from cloudproj.testing.factories import make_instance, make_project_user
    from compute.scheduler.claims import schedule_and_claim

    settings.SCHEDULER_MAX_CANDIDATES = 5
    project, user = make_project_user()
    counts = []
    for size in (30, 300):
        for i in range(len(counts) * 30, size):
            make_host(f"q{i:03d}", memory_mb=4096 + 64 * (i % 7), num_instances=i % 5)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        instance = make_instance(project, user)
        with CaptureQueriesContext(connection) as queries:
            schedule_and_claim(instance)
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[1] <= 14, counts
