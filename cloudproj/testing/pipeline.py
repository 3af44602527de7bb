"""A project ready to boot through the real pipeline (quota, a tiny flavor and image, a
network on a test bridge), boots through the service layer as the API makes them, and the
checks the fault tests run once the servers settled or went away."""
import uuid
from pathlib import Path

from .factories import Ctx, make_project_user

FAULTS_BRIDGE = "cptflt0"  # the fault tests' network (compute/tests/faults/conftest.py)


def make_world(tmp_path, label: str, cidr: str, bridge: str, quota: dict) -> dict:
    """{"ctx", "flavor", "image", "network", "project"} of project `label` (flavor
    `<label>.tiny` of 512 MB, image `<label>-image` of 1 MB, network `<label>net`)."""
    from compute.models import Flavor
    from identity.services import quotas
    from images.services.registry import register_image
    from network.services.networks import create_network

    project, user = make_project_user(label)
    quotas.set_quotas(project, quota)
    flavor = Flavor.objects.create(flavorid=f"{label}.tiny", name=f"{label}.tiny", memory_mb=512, vcpus=1, root_gb=0)
    disk = tmp_path / "tiny.raw"
    disk.write_bytes(b"\0" * 1024 * 1024)
    image = register_image(disk, f"{label}-image", disk_format="raw", visibility="public", owner=project)
    network = create_network(f"{label}net", cidr, bridge=bridge)
    return {"ctx": Ctx(user, project, request_id=f"req-{label}"), "flavor": flavor, "image": image,
            "network": network, "project": project}


def image_mapping(image) -> dict:
    return {"id": str(image.id), "status": image.status, "properties": dict(image.properties or {}),
            "min_disk": image.min_disk, "min_ram": image.min_ram, "size": image.size}


def boot(world, name, count=1, request_id=None):
    """`count` servers `name` of the world's flavor and image, as POST /servers creates them."""
    from compute.services import operations

    ctx = world["ctx"]
    ctx.request_id = request_id or f"req-{uuid.uuid4()}"
    return operations.create_servers(ctx, name, world["flavor"], image_mapping(world["image"]),
                                     min_count=count, max_count=count)


def delete(world, instance):
    from compute.models import Instance
    from compute.services import operations

    instance = Instance.all_objects.get(pk=instance.pk)
    if instance.deleted_at is None:
        ctx = world["ctx"]
        ctx.request_id = f"req-{uuid.uuid4()}"
        operations.delete_server(ctx, instance)


def settled(uuids) -> bool:
    """Every instance ACTIVE, or ERROR with a fault (or deleted)."""
    from compute import states
    from compute.models import Instance, InstanceFault

    for row in Instance.all_objects.filter(uuid__in=list(uuids)):
        if row.vm_state == states.ERROR and not InstanceFault.objects.filter(instance=row).exists():
            return False
        if row.vm_state not in (states.ACTIVE, states.ERROR, states.DELETED) or row.task_state is not None:
            return False
    return True


def gone(uuids) -> bool:
    from compute.models import Instance

    return not Instance.objects.filter(uuid__in=list(uuids)).exists()


def assert_nothing_leaked(world, cloud, hosts):
    """After every server was deleted: no fixed IP, DHCP entry, claim, overlay, quota usage."""
    from compute.models import Claim, ComputeNode
    from identity.services import quotas
    from network.models import FixedIP

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
