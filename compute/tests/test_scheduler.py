import random

import pytest

from cloudproj.testing.factories import make_host, make_instance, make_project_user
from compute.models import ComputeNode
from compute.scheduler import NoValidHost, RequestSpec, get_scheduler, select_host
from compute.scheduler.base import normalize
from compute.scheduler.chance import ChanceScheduler
from compute.scheduler.claims import schedule_and_claim, usage_from_claims
from compute.scheduler.filter_scheduler import FilterScheduler
from compute.scheduler.host_state import get_host_states

pytestmark = pytest.mark.django_db

TINY = {"memory_mb": 512, "vcpus": 1}


def names(hosts):
    return sorted(h.host for h in hosts)


def test_host_state_from_rows():
    make_host("h1", vcpus=8, memory_mb=4096, local_gb=50, zone="az1", memory_mb_used=1024, num_instances=2)
    (state,) = get_host_states()
    assert (state.host, state.availability_zone, state.vcpus, state.num_instances) == ("h1", "az1", 8, 2)
    assert state.service_up and not state.service_disabled
    assert state.free_ram_mb == 4096 - 1024 - 512  # reserved host memory
    assert state.architecture == "x86_64"


def test_no_valid_host_message_counts_each_filter():
    make_host("h1", disabled=True)
    make_host("h2", up=False)
    for name in ("h3", "h4", "h5"):
        make_host(name, memory_mb=1024)
    with pytest.raises(NoValidHost) as info:
        select_host({"memory_mb": 2048, "vcpus": 1})
    assert info.value.message == (
        "No valid host was found. There are not enough hosts available. "
        "(5 hosts: RamFilter removed 3, ComputeFilter removed 2)"
    )
    assert info.value.removed == [("RamFilter", 3), ("ComputeFilter", 2)]


def test_no_hosts_at_all():
    with pytest.raises(NoValidHost, match=r"\(0 hosts\)"):
        select_host(TINY)


def test_compute_filter():
    make_host("h1", disabled=True)
    make_host("h2", up=False)
    make_host("h3")
    assert select_host(TINY) == "h3"


def test_availability_zone_filter():
    make_host("h1", zone="az1")
    make_host("h2", zone="az2")
    assert select_host({**TINY, "availability_zone": "az2"}) == "h2"
    with pytest.raises(NoValidHost, match="AvailabilityZoneFilter removed 2"):
        select_host({**TINY, "availability_zone": "az3"})


def test_ram_filter_ratio_and_reserved(settings):
    make_host("h1", memory_mb=1024)  # 1024 * 1.5 - 512 reserved = 1024 usable
    assert select_host({"memory_mb": 1024, "vcpus": 1}) == "h1"
    with pytest.raises(NoValidHost, match="RamFilter removed 1"):
        select_host({"memory_mb": 1025, "vcpus": 1})
    settings.RAM_ALLOCATION_RATIO = 1.0
    with pytest.raises(NoValidHost, match="RamFilter removed 1"):
        select_host({"memory_mb": 1024, "vcpus": 1})
    settings.RESERVED_HOST_MEMORY_MB = 0
    assert select_host({"memory_mb": 1024, "vcpus": 1}) == "h1"


def test_core_filter(settings):
    make_host("full", vcpus=2, vcpus_used=32)  # 2 * 16.0 = 32 used up
    make_host("small", vcpus=2)  # fewer physical cpus than asked
    make_host("ok", vcpus=8, vcpus_used=100)
    assert select_host({"memory_mb": 512, "vcpus": 4}) == "ok"
    with pytest.raises(NoValidHost, match="CoreFilter removed 3"):
        select_host({"memory_mb": 512, "vcpus": 29})
    settings.CPU_ALLOCATION_RATIO = 1.0  # ok: 8 - 100 used → nothing left
    with pytest.raises(NoValidHost, match="CoreFilter removed 3"):
        select_host({"memory_mb": 512, "vcpus": 3})


def test_disk_filter(settings):
    make_host("h1", local_gb=20, local_gb_used=5)
    make_host("h2", local_gb=40)
    assert select_host({**TINY, "root_gb": 20}) == "h2"
    assert select_host({**TINY, "root_gb": 10, "ephemeral_gb": 5}) in ("h1", "h2")
    with pytest.raises(NoValidHost, match="DiskFilter removed 2"):
        select_host({**TINY, "root_gb": 40, "swap": 1})  # swap counts (MB)
    settings.RESERVED_HOST_DISK_MB = 10 * 1024
    with pytest.raises(NoValidHost, match="DiskFilter removed 2"):
        select_host({**TINY, "root_gb": 31})


def test_retry_filter():
    make_host("h1")
    make_host("h2")
    spec = {**TINY, "retry": {"num_attempts": 1, "hosts": [["h1", "h1"]]}}
    assert select_host(spec) == "h2"
    spec["retry"]["hosts"].append(["h2", "h2"])
    with pytest.raises(NoValidHost, match="RetryFilter removed 2"):
        select_host(spec)


def test_image_properties_filter():
    make_host("x86", arch="x86_64", hv_type="QEMU")
    make_host("arm", arch="aarch64", hv_type="QEMU")
    make_host("test", arch="i686", hv_type="Test")
    assert select_host({**TINY, "image": {"properties": {"architecture": "aarch64"}}}) == "arm"
    assert select_host({**TINY, "image": {"properties": {"architecture": "amd64", "hypervisor_type": "kvm"}}}) == "x86"
    assert select_host({**TINY, "image": {"properties": {"hypervisor_type": "test"}}}) == "test"
    with pytest.raises(NoValidHost, match="ImagePropertiesFilter removed 3"):
        select_host({**TINY, "image": {"properties": {"architecture": "ppc64le"}}})
    # an image that asks for nothing runs anywhere
    assert len(FilterScheduler().select_hosts({**TINY, "image": {"properties": {}}})) == 3


def test_num_instances_filter(settings):
    settings.MAX_INSTANCES_PER_HOST = 3
    make_host("busy", num_instances=3)
    make_host("free", num_instances=2)
    assert select_host(TINY) == "free"


def test_same_and_different_host_hints():
    make_host("h1")
    make_host("h2")
    make_host("h3")
    project, user = make_project_user()
    a = make_instance(project, user, host="h1")
    b = make_instance(project, user, host="h2")
    assert select_host({**TINY, "scheduler_hints": {"same_host": [str(a.uuid)]}}) == "h1"
    assert select_host({**TINY, "scheduler_hints": {"same_host": str(b.uuid)}}) == "h2"
    hosts = FilterScheduler().select_hosts({**TINY, "scheduler_hints": {"different_host": [str(a.uuid), str(b.uuid)]}})
    assert names(hosts) == ["h3"]
    with pytest.raises(NoValidHost, match="SameHostFilter removed 2"):
        # h3 is what different_host leaves... unless same_host wants h1
        select_host({**TINY, "scheduler_hints": {"same_host": [str(a.uuid)], "different_host": [str(a.uuid)]}})


def test_ram_weigher_spreads_and_stacks(settings):
    make_host("small", memory_mb=4096)
    make_host("big", memory_mb=8192)
    assert select_host(TINY) == "big"  # spread: most free RAM first
    settings.RAM_WEIGHT_MULTIPLIER = -1.0
    assert select_host(TINY) == "small"  # stack: fill the fullest host that still fits
    settings.RAM_WEIGHT_MULTIPLIER = 0.0
    settings.NUM_INSTANCES_WEIGHT_MULTIPLIER = -1.0
    ComputeNode.objects.filter(host="small").update(num_instances=0)
    ComputeNode.objects.filter(host="big").update(num_instances=5)
    assert select_host(TINY) == "small"  # fewer instances wins


def test_weights_are_normalized_and_combined(settings):
    settings.RAM_WEIGHT_MULTIPLIER = 1.0
    settings.NUM_INSTANCES_WEIGHT_MULTIPLIER = -2.0
    make_host("a", memory_mb=8192, num_instances=4)  # ram 1.0, instances 1.0*-2 → -1.0
    make_host("b", memory_mb=4096, num_instances=0)  # ram 0.0, instances 0 → 0.0
    hosts = FilterScheduler().select_hosts(TINY)
    assert [h.host for h in hosts] == ["b", "a"]
    assert hosts[0].weights == {"RamWeigher": 4096 - 512, "NumInstancesWeigher": 0,
                                # no server group: the soft group weighers weigh every host 0
                                "ServerGroupSoftAffinityWeigher": 0, "ServerGroupSoftAntiAffinityWeigher": 0}


def test_normalize():
    assert normalize([]) == []
    assert normalize([5, 5]) == [0.0, 0.0]
    assert normalize([0, 5, 10]) == [0.0, 0.5, 1.0]
    assert normalize([5], minval=0, maxval=10) == [0.5]


def test_chance_scheduler(settings):
    make_host("down", up=False)
    make_host("other-zone", zone="az2")
    for i in range(4):
        make_host(f"ok{i}", memory_mb=256)  # too small: chance does not look at RAM
    picked = {ChanceScheduler(rng=random.Random(seed)).select_host({**TINY, "availability_zone": "nova"}) for seed in range(30)}
    assert picked == {"ok0", "ok1", "ok2", "ok3"}
    settings.SCHEDULER_DRIVER = "chance"
    assert isinstance(get_scheduler(), ChanceScheduler)
    settings.SCHEDULER_DRIVER = "filter"
    assert type(get_scheduler()) is FilterScheduler
    assert type(get_scheduler("compute.scheduler.chance.ChanceScheduler")) is ChanceScheduler


def test_chance_scheduler_claims_enforce_capacity(settings):
    settings.SCHEDULER_DRIVER = "chance"
    make_host("tiny", memory_mb=512)  # 512*1.5-512 = 256: takes nothing
    make_host("roomy", memory_mb=4096)
    project, user = make_project_user()
    for _ in range(5):
        inst = make_instance(project, user)
        assert schedule_and_claim(RequestSpec.from_instance(inst)).host == "roomy"


def test_forty_instances_on_five_hosts_then_no_valid_host():
    """5 hosts of 3072 MB: 3072*1.5 - 512 = 4096 MB → 8 m1.tiny each; the 41st does not fit."""
    for i in range(5):
        make_host(f"host-{i}", vcpus=2, memory_mb=3072, local_gb=10)
    project, user = make_project_user()
    placed = {}
    for _ in range(40):
        inst = make_instance(project, user)
        claim = schedule_and_claim(RequestSpec.from_instance(inst))
        placed[claim.host] = placed.get(claim.host, 0) + 1
        inst.refresh_from_db()
        assert inst.host == claim.host and inst.availability_zone == "nova"
    assert placed == {f"host-{i}": 8 for i in range(5)}  # spread evenly by the weighers
    for node in ComputeNode.objects.all():
        assert node.memory_mb_used == 8 * 512
        assert node.memory_mb_used + 512 <= node.memory_mb * 1.5
        assert node.vcpus_used <= node.vcpus * 16
        assert usage_from_claims(node) == {
            "vcpus_used": node.vcpus_used, "memory_mb_used": node.memory_mb_used,
            "local_gb_used": node.local_gb_used, "num_instances": node.num_instances,
        }
    extra = make_instance(project, user)
    with pytest.raises(NoValidHost) as info:
        schedule_and_claim(RequestSpec.from_instance(extra))
    assert info.value.message == (
        "No valid host was found. There are not enough hosts available. (5 hosts: RamFilter removed 5)"
    )


def test_select_destinations_consumes_between_picks():
    make_host("a", memory_mb=3072)
    make_host("b", memory_mb=3072)
    hosts = FilterScheduler().select_destinations(TINY, 4)
    assert sorted(hosts) == ["a", "a", "b", "b"]
    with pytest.raises(NoValidHost):
        FilterScheduler().select_destinations(TINY, 17)
