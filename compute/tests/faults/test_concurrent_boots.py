"""200 boots asked for at once (20 client threads against the real PostgreSQL) over 20
simulated hosts (20 agent processes on libvirt's test driver): zero duplicate fixed IPs,
the quota never exceeded, no host past its allocation ratios."""
import threading
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection

from cloudproj.testing.cloud import node_xml
from cloudproj.testing.pipeline import boot
from compute import states
from compute.models import ComputeNode, Instance, InstanceFault
from compute.scheduler.claims import usage_from_claims
from cloudproj.exceptions import OverQuota
from identity.services import quotas
from network.models import FixedIP

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOSTS = [f"flt-c{i:02d}" for i in range(20)]
HOST_MEMORY_MB = 3200  # RAM ratio 1.5, 512 MB reserved: 4288 MB → 8 servers of 512 MB per host
PER_HOST = 8
QUOTA = 180  # 200 asked for: 20 refused by quota; 180 created, 160 fit, 20 find no valid host


def test_200_concurrent_boots_over_20_hosts(cloud, world, tmp_path):
    settings.SERVICE_DOWN_TIME = 60
    quotas.set_quotas(world["project"], {"instances": QUOTA, "cores": 1000, "ram": 1000 * 1024})
    world["network"].host = HOSTS[0]
    world["network"].save(update_fields=["host"])
    cloud.start_scheduler(concurrency=4, SERVICE_DOWN_TIME=60)
    for host in HOSTS:
        cloud.start_agent(host, concurrency=2, REPORT_INTERVAL=5, SERVICE_DOWN_TIME=60,
                          LIBVIRT_URI=node_xml(tmp_path / f"{host}.xml", HOST_MEMORY_MB))
    cloud.wait_up(HOSTS, timeout=300)

    created, refused, failures = [], [], []
    lock = threading.Lock()

    def client(index):
        try:
            for n in range(10):
                try:
                    (instance,) = boot(dict(world, ctx=_ctx(world, index)), f"c{index}-{n}")
                    with lock:
                        created.append(instance.uuid)
                except OverQuota:
                    with lock:
                        refused.append((index, n))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not failures, failures[:3]
    assert (len(created), len(refused)) == (QUOTA, 200 - QUOTA)
    assert quotas.get_usages(world["project"])["instances"]["in_use"] == QUOTA

    def settled():
        rows = Instance.objects.filter(uuid__in=created)
        return not rows.filter(vm_state=states.BUILDING).exists()

    cloud.wait(settled, 600, "200 boots to settle", interval=2)
    active = Instance.objects.filter(uuid__in=created, vm_state=states.ACTIVE)
    errors = Instance.objects.filter(uuid__in=created, vm_state=states.ERROR)
    faults = _report(created, errors)
    assert active.count() == len(HOSTS) * PER_HOST, faults
    assert errors.count() == QUOTA - len(HOSTS) * PER_HOST, faults
    for row in errors:
        assert "No valid host" in InstanceFault.objects.filter(instance=row).latest("created_at").message, faults

    per_host = Counter(active.values_list("host", flat=True))
    assert set(per_host.values()) == {PER_HOST}
    for node in ComputeNode.objects.filter(host__in=HOSTS):
        usage = usage_from_claims(node)
        assert usage["memory_mb_used"] == node.memory_mb_used <= node.memory_mb * 1.5 - 512
        assert usage["vcpus_used"] == node.vcpus_used <= node.vcpus * 16
        assert node.num_instances == per_host[node.host]

    addresses = list(FixedIP.objects.filter(allocated=True).values_list("address", flat=True))
    assert len(addresses) == active.count() and len(set(addresses)) == len(addresses)


def _report(created, errors) -> str:
    """What holds each host's capacity and how the errored servers got there (failure report)."""
    from compute.models import Claim, InstanceActionEvent

    lines = []
    claims = Counter(Claim.objects.values_list("host", flat=True))
    active = Counter(Instance.objects.filter(uuid__in=created, vm_state=states.ACTIVE).values_list("host", flat=True))
    for host in HOSTS:
        if claims[host] != active[host]:
            held = Claim.objects.filter(host=host).exclude(instance__vm_state=states.ACTIVE)
            lines.append(f"{host}: {claims[host]} claims, {active[host]} active; held by "
                         + ", ".join(f"{c.instance.uuid} ({c.instance.vm_state}/{c.instance.task_state})" for c in held))
    for row in errors:
        events = InstanceActionEvent.objects.filter(action__instance=row).order_by("id")
        lines.append(f"{row.uuid} host={row.host} faults="
                     + repr([f.message[:200] for f in InstanceFault.objects.filter(instance=row)])
                     + " events=" + repr([(e.event, e.host, e.result) for e in events]))
    return "\n".join(lines)


def _ctx(world, index):
    from cloudproj.testing.factories import Ctx

    ctx = world["ctx"]
    return Ctx(ctx.user, ctx.project, request_id=f"req-client-{index}")
