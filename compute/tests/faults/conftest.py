"""Fixtures of the fault tests: a cloud of real processes (scheduler, agents on libvirt's
test driver), a real network with its dnsmasq, and the checks that nothing leaked."""
import subprocess
import uuid
from pathlib import Path

import pytest

from compute import states
from compute.models import Claim, ComputeNode, Flavor, Instance, InstanceFault
from compute.services import operations
from identity.services import quotas
from images.services.registry import register_image
from network.models import FixedIP
from network.services.networks import create_network

from ..cloud_harness import Cloud
from ..test_scheduler_helpers import Ctx, make_project_user

BRIDGE = "cptflt0"
CIDR = "10.251.0.0/24"
FIRST_INSTANCE_ID = 0x251000


@pytest.fixture
def broker_url():
    from ..real_guest import redis_broker_or_skip

    return redis_broker_or_skip()


@pytest.fixture
def cloud(broker_url, settings, tmp_path):
    from ..real_guest import own_instance_ids

    own_instance_ids(FIRST_INSTANCE_ID)
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.SERVICE_DOWN_TIME = 10
    markers = tmp_path / "faults"
    markers.mkdir()
    # A killed worker's message comes back after the visibility timeout (kombu looks about
    # every 100 s); it must stay longer than the longest task, or a slow step under the 200-boot load
    # is handed to a second worker while the first still runs it (README: BROKER_VISIBILITY_TIMEOUT).
    cloud = Cloud(tmp_path, broker_url, FAULT_INJECT_DIR=markers, BROKER_VISIBILITY_TIMEOUT=60)
    cloud.markers = markers
    yield cloud
    cloud.stop()
    subprocess.run(["pkill", "-f", f"dnsmasq.*{BRIDGE}"], check=False)
    subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)


@pytest.fixture
def world(tmp_path, db):
    project, user = make_project_user("faults")
    quotas.set_quotas(project, {"instances": 250, "cores": 250, "ram": 250 * 512})
    flavor = Flavor.objects.create(flavorid="flt.tiny", name="flt.tiny", memory_mb=512, vcpus=1, root_gb=0)
    disk = tmp_path / "tiny.raw"
    disk.write_bytes(b"\0" * 1024 * 1024)
    image = register_image(disk, "flt-image", disk_format="raw", visibility="public", owner=project)
    network = create_network("fltnet", CIDR, bridge=BRIDGE)
    return {"ctx": Ctx(user, project, request_id="req-flt"), "flavor": flavor, "image": image,
            "network": network, "project": project}


def boot(world, name, count=1):
    image = world["image"]
    ctx = world["ctx"]
    ctx.request_id = f"req-{uuid.uuid4()}"
    mapping = {"id": str(image.id), "status": image.status, "properties": dict(image.properties or {}),
               "min_disk": image.min_disk, "min_ram": image.min_ram, "size": image.size}
    return operations.create_servers(ctx, name, world["flavor"], mapping, min_count=count, max_count=count)


def delete(world, instance):
    instance = Instance.all_objects.get(pk=instance.pk)
    if instance.deleted_at is None:
        ctx = world["ctx"]
        ctx.request_id = f"req-{uuid.uuid4()}"
        operations.delete_server(ctx, instance)


def settled(uuids) -> bool:
    """Every instance ACTIVE, or ERROR with a fault (or deleted)."""
    for row in Instance.all_objects.filter(uuid__in=list(uuids)):
        if row.vm_state == states.ERROR and not InstanceFault.objects.filter(instance=row).exists():
            return False
        if row.vm_state not in (states.ACTIVE, states.ERROR, states.DELETED) or row.task_state is not None:
            return False
    return True


def gone(uuids) -> bool:
    return not Instance.objects.filter(uuid__in=list(uuids)).exists()


def assert_nothing_leaked(world, cloud, hosts):
    """After every server was deleted: no fixed IP, DHCP entry, claim, overlay, quota usage."""
    assert not FixedIP.objects.filter(allocated=True).exists(), list(FixedIP.objects.filter(allocated=True).values())
    assert not FixedIP.objects.exclude(instance_uuid=None).exists()
    assert not Claim.objects.exists(), list(Claim.objects.values())
    for node in ComputeNode.objects.filter(host__in=hosts):
        assert (node.vcpus_used, node.memory_mb_used, node.num_instances) == (0, 0, 0), node.host
    usages = quotas.get_usages(world["project"])
    assert (usages["instances"]["in_use"], usages["cores"]["in_use"], usages["ram"]["in_use"]) == (0, 0, 0)
    for host in hosts:
        instances = Path(cloud.state_path(host) / "instances")
        assert not instances.exists() or not [p for p in instances.iterdir() if p.name.startswith("instance-")]
        hosts_file = cloud.state_path(host) / "networks" / str(world["network"].pk) / "hosts"
        assert not hosts_file.exists() or hosts_file.read_text().strip() == ""
