import queue
import threading

import pytest
from django.db import connection

from cloudproj.testing.factories import make_host, make_instance, make_project_user
from compute.models import Claim, ComputeNode, Instance
from compute.scheduler import NoValidHost, RequestSpec
from compute.scheduler.claims import ClaimFailed, claim, claim_holder, release, schedule_and_claim, usage_from_claims


def node(host):
    return ComputeNode.objects.get(host=host)


def assert_consistent(n: ComputeNode):
    assert usage_from_claims(n) == {
        "vcpus_used": n.vcpus_used, "memory_mb_used": n.memory_mb_used,
        "local_gb_used": n.local_gb_used, "num_instances": n.num_instances,
    }
    assert n.memory_mb_used + 512 <= n.memory_mb * 1.5
    assert n.vcpus_used <= n.vcpus * 16
    assert n.local_gb_used * 1024 <= n.local_gb * 1024


@pytest.mark.django_db
class TestClaims:
    def test_claim_and_release(self):
        make_host("h1", vcpus=4, memory_mb=4096, local_gb=100)
        project, user = make_project_user()
        inst = make_instance(project, user, memory_mb=1024, vcpus=2, root_gb=10, ephemeral_gb=5, swap=100)
        c = claim("h1", inst)
        assert (c.host, c.vcpus, c.memory_mb, c.disk_gb) == ("h1", 2, 1024, 16)  # swap rounded up
        n = node("h1")
        assert (n.vcpus_used, n.memory_mb_used, n.local_gb_used, n.num_instances) == (2, 1024, 16, 1)
        assert n.free_ram_mb == 3072 and n.free_disk_gb == 84
        inst.refresh_from_db()
        assert (inst.host, inst.node, inst.availability_zone) == ("h1", "h1", "nova")
        assert claim_holder(inst) == "h1"
        assert release("h1", inst) is True
        assert release("h1", inst) is False  # exactly once
        assert release(None, inst) is False
        n = node("h1")
        assert (n.vcpus_used, n.memory_mb_used, n.local_gb_used, n.num_instances) == (0, 0, 0, 0)
        assert claim_holder(inst) is None

    def test_claim_is_idempotent_on_the_same_host(self):
        make_host("h1")
        make_host("h2")
        project, user = make_project_user()
        inst = make_instance(project, user)
        first = claim("h1", inst)
        assert claim("h1", inst).pk == first.pk
        assert node("h1").num_instances == 1
        with pytest.raises(ClaimFailed, match="already holds a claim on host h1"):
            claim("h2", inst)
        assert release("h2", inst) is False  # not held there
        assert node("h1").num_instances == 1
        assert release("h1", inst, clear_host=True) is True
        inst.refresh_from_db()
        assert inst.host is None
        claim("h2", inst)
        assert claim_holder(inst) == "h2"

    def test_claim_rechecks_limits(self, settings):
        make_host("h1", memory_mb=1024)  # 1024*1.5-512 = 1024 MB usable
        project, user = make_project_user()
        a = make_instance(project, user, memory_mb=768)
        b = make_instance(project, user, memory_mb=512)
        claim("h1", a)
        with pytest.raises(ClaimFailed, match="not enough RAM"):
            claim("h1", b)
        settings.MAX_INSTANCES_PER_HOST = 1
        c = make_instance(project, user, memory_mb=64)
        with pytest.raises(ClaimFailed, match="too many instances"):
            claim("h1", c)
        assert Claim.objects.count() == 1
        with pytest.raises(ClaimFailed, match="no compute node"):
            claim("nowhere", c)

    def test_deleted_instance_cannot_claim(self):
        from django.utils import timezone

        make_host("h1")
        project, user = make_project_user()
        inst = make_instance(project, user, deleted_at=timezone.now())
        with pytest.raises(ClaimFailed, match="is deleted"):
            claim("h1", inst)

    def test_schedule_and_claim_moves_on_when_a_claim_races(self, monkeypatch):
        make_host("best", memory_mb=8192)
        make_host("second", memory_mb=4096)
        project, user = make_project_user()
        inst = make_instance(project, user)
        from compute.scheduler import claims as claims_mod

        real_claim = claims_mod.claim

        def racing(host, instance, node=None, skip_locked=False):
            if host == "best":
                raise ClaimFailed("lost the race")
            return real_claim(host, instance, node, skip_locked)

        monkeypatch.setattr(claims_mod, "claim", racing)
        monkeypatch.setattr(claims_mod, "claim_best", lambda hosts, instance: None)  # all busy
        assert schedule_and_claim(RequestSpec.from_instance(inst)).host == "second"

    def test_claim_best_takes_the_best_host_with_room(self):
        from compute.scheduler.claims import claim_best
        from compute.scheduler.filter_scheduler import FilterScheduler

        make_host("big", memory_mb=8192)
        make_host("mid", memory_mb=4096)
        project, user = make_project_user()
        hosts = FilterScheduler().select_hosts({"memory_mb": 512, "vcpus": 1})
        assert [h.host for h in hosts] == ["big", "mid"]
        hog = make_instance(project, user, memory_mb=11000)
        claim("big", hog)  # big is full now, but the (stale) ranking still puts it first
        inst = make_instance(project, user, memory_mb=2048)
        assert claim_best(hosts, inst).host == "mid"
        assert claim_best(hosts, inst).host == "mid"  # idempotent
        other = make_instance(project, user, memory_mb=8000)
        with pytest.raises(ClaimFailed, match="every candidate host is full"):
            claim_best(hosts, other)

    def test_schedule_and_claim_skips_tried_hosts(self):
        make_host("h1", memory_mb=8192)
        make_host("h2", memory_mb=4096)
        project, user = make_project_user()
        inst = make_instance(project, user, retry={"num_attempts": 1, "hosts": [["h1", "h1"]]})
        assert schedule_and_claim(RequestSpec.from_instance(inst)).host == "h2"
        assert schedule_and_claim(RequestSpec.from_instance(inst)).host == "h2"  # re-delivered: same claim
        assert Claim.objects.count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("candidates", [200, 3], ids=["full-pass", "sql-sample"])
def test_concurrent_schedule_and_claim_never_overcommits(settings, candidates):
    """20 hosts that fit 8 m1.tiny each (160), 200 concurrent boots from 20 threads with
    their own DB connections: exactly 160 claims, 40 NoValidHost, no host past its ratios.
    With a window of 3 the hosts come from the SQL path (sample, cuts), as in a large cloud."""
    settings.SCHEDULER_MAX_CANDIDATES = candidates
    for i in range(20):
        make_host(f"sim-{i:02d}", vcpus=1, memory_mb=3072, local_gb=10)
    project, user = make_project_user("concurrency")
    uuids = [str(make_instance(project, user).uuid) for _ in range(200)]
    work = queue.Queue()
    for instance_uuid in uuids:
        work.put(instance_uuid)
    barrier = threading.Barrier(20)
    results = {}

    def worker():
        try:
            barrier.wait(timeout=60)
            while True:
                try:
                    instance_uuid = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[instance_uuid] = schedule_and_claim({"instance_uuid": instance_uuid}).host
                except NoValidHost:
                    results[instance_uuid] = None
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    placed = [h for h in results.values() if h]
    assert len(results) == 200
    assert len(placed) == 160
    assert Claim.objects.count() == 160
    assert Claim.objects.values("instance").distinct().count() == 160
    for n in ComputeNode.objects.all():
        assert n.num_instances == 8
        assert_consistent(n)
    for instance_uuid, host in results.items():
        inst = Instance.all_objects.get(uuid=instance_uuid)
        assert inst.host == host
        assert claim_holder(inst) == host


@pytest.mark.django_db
def test_spec_for_takes_sizes_from_the_instance():
    from compute.scheduler.claims import spec_for

    project, user = make_project_user()
    inst = make_instance(project, user, memory_mb=1024, vcpus=2, availability_zone="az1")
    spec, found = spec_for({"instance_uuid": str(inst.uuid), "retry": {"hosts": [["h1", "h1"]]}})
    assert found.pk == inst.pk
    assert (spec.memory_mb, spec.vcpus, spec.availability_zone) == (1024, 2, "az1")
    assert spec.tried_hosts == {"h1"}
    assert spec_for(inst)[0].memory_mb == 1024
