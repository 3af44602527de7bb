"""Server groups and host aggregates in the filter scheduler, over simulated hosts (Service +
ComputeNode rows in PostgreSQL; nothing mocked): anti-affinity spreads, affinity packs, the
soft policies weigh, max_server_per_host, the host's late check sends a second build that
raced onto the same host back to the scheduler, aggregate zones move hosts, the extra-specs
and tenant-isolation filters, and the SQL candidate window agrees with a full pass."""
import pytest

from cloudproj.testing.factories import make_host, make_instance, make_project_user
from compute.models import Claim, Instance, ServerGroup, ServerGroupMember
from compute.scheduler import NoValidHost, RequestSpec
from compute.scheduler import candidates, claims
from compute.scheduler.claims import schedule_and_claim
from compute.scheduler.filter_scheduler import FilterScheduler
from compute.services import aggregates, server_groups

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return make_project_user()


def group(owner, policy, **rules):
    project, user = owner
    return ServerGroup.objects.create(name=policy, policy=policy, project_id=project.id, user_id=user.id,
                                      rules=rules)


def place(owner, grp, count, **kw):
    """Create `count` members of `grp` one after the other and schedule + claim each."""
    project, user = owner
    hosts = []
    for _ in range(count):
        inst = make_instance(project, user, **kw)
        ServerGroupMember.objects.create(group=grp, instance_uuid=inst.uuid)
        claim = schedule_and_claim(inst)
        Instance.objects.filter(pk=inst.pk).update(host=claim.host, node=claim.host)
        hosts.append(claim.host)
    return hosts


def test_anti_affinity_spreads_then_refuses(owner):
    for name in ("h1", "h2", "h3"):
        make_host(name)
    grp = group(owner, "anti-affinity")
    assert sorted(place(owner, grp, 3)) == ["h1", "h2", "h3"]
    project, user = owner
    extra = make_instance(project, user)
    ServerGroupMember.objects.create(group=grp, instance_uuid=extra.uuid)
    with pytest.raises(NoValidHost) as info:
        schedule_and_claim(extra)
    assert ("ServerGroupAntiAffinityFilter", 3) in info.value.removed
    assert "ServerGroupAntiAffinityFilter removed 3" in info.value.message


def test_anti_affinity_max_server_per_host(owner):
    make_host("h1")
    make_host("h2")
    grp = group(owner, "anti-affinity", max_server_per_host=2)
    hosts = place(owner, grp, 4)
    assert sorted(hosts) == ["h1", "h1", "h2", "h2"]


def test_affinity_packs_even_against_the_weighers(owner):
    for name in ("h1", "h2", "h3"):
        make_host(name)
    grp = group(owner, "affinity")
    hosts = place(owner, grp, 4)
    assert len(set(hosts)) == 1  # the RAM / instance-count weighers would spread them


def test_soft_affinity_packs_against_the_spreading_weighers(owner):
    make_host("h1")
    make_host("h2")
    project, user = owner
    plain = [schedule_and_claim(make_instance(project, user)).host for _ in range(2)]
    assert sorted(plain) == ["h1", "h2"]  # the default weighers spread
    soft = group(owner, "soft-affinity")
    packed = place(owner, soft, 3)
    assert len(set(packed)) == 1


def test_soft_anti_affinity_spreads_against_stacking_weighers_and_never_refuses(owner, settings):
    settings.RAM_WEIGHT_MULTIPLIER = -1.0  # stack: the fullest host first
    settings.NUM_INSTANCES_WEIGHT_MULTIPLIER = 0.0
    make_host("h1")
    make_host("h2")
    project, user = owner
    plain = [schedule_and_claim(make_instance(project, user)).host for _ in range(2)]
    assert plain[0] == plain[1]  # without a group they stack
    soft_anti = group(owner, "soft-anti-affinity")
    hosts = place(owner, soft_anti, 3)
    assert set(hosts[:2]) == {"h1", "h2"} and len(hosts) == 3  # spread, then a third anyway


def test_group_hint_without_membership_and_other_groups_do_not_interfere(owner):
    make_host("h1")
    make_host("h2")
    grp = group(owner, "anti-affinity")
    (first,) = place(owner, grp, 1)
    project, user = owner
    spec = RequestSpec(project_id=project.id, memory_mb=512, vcpus=1, scheduler_hints={"group": str(grp.uuid)})
    assert [h.host for h in FilterScheduler().select_hosts(spec)] == [h for h in ("h1", "h2") if h != first]
    plain = RequestSpec(project_id=project.id, memory_mb=512, vcpus=1)
    assert len(FilterScheduler().select_hosts(plain)) == 2


def test_late_check_reschedules_the_second_of_two_raced_builds(owner):
    """Two builds of an anti-affinity group that both claimed h1 (as two schedulers running at
    once can): the host's check lets the first go on and sends the second back, with its
    claim released; it then lands on h2."""
    make_host("h1")
    make_host("h2")
    project, user = owner
    grp = group(owner, "anti-affinity")
    a, b = make_instance(project, user), make_instance(project, user)
    for inst in (a, b):
        ServerGroupMember.objects.create(group=grp, instance_uuid=inst.uuid)
        claims.claim("h1", inst)  # each scheduler saw h1 free: claims hold no group rule
        Instance.objects.filter(pk=inst.pk).update(host="h1", node="h1")
    a.refresh_from_db()
    b.refresh_from_db()
    with pytest.raises(server_groups.GroupPolicyViolation, match="anti-affinity"):
        server_groups.check_on_host(b, "h1")
    b.refresh_from_db()
    assert b.host is None and not Claim.objects.filter(instance=b).exists()
    server_groups.check_on_host(a, "h1")  # b no longer counts: a stays
    assert Claim.objects.get(instance=a).host == "h1"
    Instance.objects.filter(pk=b.pk).update(retry={"num_attempts": 1, "hosts": [["h1", "h1"]]})
    b.refresh_from_db()
    assert schedule_and_claim(b).host == "h2"


def test_late_check_affinity(owner):
    make_host("h1")
    make_host("h2")
    project, user = owner
    grp = group(owner, "affinity")
    (host,) = place(owner, grp, 1)
    other = "h2" if host == "h1" else "h1"
    late = make_instance(project, user)
    ServerGroupMember.objects.create(group=grp, instance_uuid=late.uuid)
    claims.claim(other, late)
    Instance.objects.filter(pk=late.pk).update(host=other)
    late.refresh_from_db()
    with pytest.raises(server_groups.GroupPolicyViolation):
        server_groups.check_on_host(late, other)
    server_groups.check_on_host(late, host)  # the right host passes


def test_aggregate_zone_moves_hosts_and_boots(owner):
    make_host("h1")
    make_host("h2")
    agg = aggregates.create_aggregate("rack2", availability_zone="az-rack2")
    aggregates.add_host(agg.pk, "h2")
    project, user = owner
    inst = make_instance(project, user, availability_zone="az-rack2")
    assert schedule_and_claim(inst).host == "h2"
    aggregates.remove_host(agg.pk, "h2")
    other = make_instance(project, user, availability_zone="az-rack2")
    with pytest.raises(NoValidHost, match="AvailabilityZoneFilter removed 2"):
        schedule_and_claim(other)


def test_aggregate_instance_extra_specs(owner):
    make_host("h1")
    make_host("h2")
    make_host("h3")
    ssd = aggregates.create_aggregate("ssd")
    aggregates.add_host(ssd.pk, "h3")
    aggregates.set_metadata(ssd.pk, {"disk": "ssd,nvme", "speed": "10"})
    project, user = owner
    fast = make_instance(project, user, flavor_extra_specs={"aggregate_instance_extra_specs:disk": "nvme"})
    assert schedule_and_claim(fast).host == "h3"
    faster = make_instance(project, user, flavor_extra_specs={"aggregate_instance_extra_specs:speed": ">= 20"})
    with pytest.raises(NoValidHost, match="AggregateInstanceExtraSpecsFilter removed 3"):
        schedule_and_claim(faster)
    unscoped = make_instance(project, user, flavor_extra_specs={"hw:cpu_policy": "shared"})
    assert schedule_and_claim(unscoped).host in ("h1", "h2", "h3")


def test_multi_tenancy_isolation(owner):
    make_host("h1")
    make_host("h2")
    project, user = owner
    other_project, other_user = make_project_user()
    private = aggregates.create_aggregate("private")
    aggregates.add_host(private.pk, "h2")
    aggregates.set_metadata(private.pk, {"filter_tenant_id": f"x, {project.id}"})
    for _ in range(3):
        inst = make_instance(other_project, other_user)
        assert schedule_and_claim(inst).host == "h1"
    mine = [schedule_and_claim(make_instance(project, user)).host for _ in range(3)]
    assert "h2" in mine


def test_sql_window_keeps_the_group_rules(owner, settings):
    """Past SCHEDULER_MAX_CANDIDATES hosts, the anti-affinity and tenant filters' SQL forms
    narrow the window: the answer is the same as the full pass's."""
    settings.SCHEDULER_MAX_CANDIDATES = 2
    for index in range(5):
        make_host(f"h{index}", memory_mb=3072 + index * 256)
    grp = group(owner, "anti-affinity")
    hosts = place(owner, grp, 5)
    assert sorted(hosts) == [f"h{i}" for i in range(5)]
    scheduler = FilterScheduler()
    assert candidates.usable(scheduler.weighers)  # the window was in use (soft weighers: SQL weight 0)
    project, user = owner
    sixth = make_instance(project, user)
    ServerGroupMember.objects.create(group=grp, instance_uuid=sixth.uuid)
    spec = RequestSpec.from_instance(sixth)
    states, _more = candidates.candidate_states(scheduler.filters, scheduler.weighers, spec)
    assert states == []  # the SQL already left every member's host out


def test_group_and_aggregate_filters_read_once_per_request_not_per_host(owner, django_assert_max_num_queries):
    for index in range(30):
        make_host(f"h{index:02d}")
    project, user = owner
    grp = group(owner, "anti-affinity")
    spec = RequestSpec(project_id=project.id, memory_mb=512, vcpus=1,
                       flavor_extra_specs={"aggregate_instance_extra_specs:x": "1"},
                       scheduler_hints={"group": str(grp.uuid)})
    plain = RequestSpec(project_id=project.id, memory_mb=512, vcpus=1)
    for asked in (spec, plain):
        with django_assert_max_num_queries(20):
            try:
                FilterScheduler().select_hosts(asked)
            except NoValidHost:
                pass  # no aggregate has x=1: every host removed, still a bounded number of reads
