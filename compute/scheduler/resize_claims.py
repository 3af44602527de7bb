"""The capacity claim of a resize: the new flavor held on the destination node while the
instance's own Claim still holds the old flavor on the source (as Nova's move claims: on the
same host both are counted until the resize is confirmed or reverted).

    claim(record, host_state, spec)   ClaimFailed when the node cannot take the new flavor
    release(record)                   the destination claim given back (once)
    confirm(record)                   the old Claim released, the resize claim becomes the
                                      instance's Claim (the node usage is already counted)

Lock order as in claims.py: Instance row → Claim / InstanceResize row → ComputeNode row.
"""
import logging

from django.db import transaction

from ..models import Claim, ComputeNode, Instance, InstanceResize
from .claims import ClaimFailed
from .host_state import capacity_problem, cores_fit, disk_fits, ram_fits
from .request_spec import RequestSpec

log = logging.getLogger(__name__)

USAGE_FIELDS = ["vcpus_used", "memory_mb_used", "local_gb_used", "num_instances", "free_ram_mb",
                "free_disk_gb", "updated_at"]


def _add(node: ComputeNode, vcpus: int, memory_mb: int, disk_gb: int, instances: int) -> None:
    node.vcpus_used = max(0, node.vcpus_used + vcpus)
    node.memory_mb_used = max(0, node.memory_mb_used + memory_mb)
    node.local_gb_used = max(0, node.local_gb_used + disk_gb)
    node.num_instances = max(0, node.num_instances + instances)
    node.recompute_free()
    node.save(update_fields=USAGE_FIELDS)


def claim(record: InstanceResize, host: str, nodename: str | None, spec: RequestSpec) -> InstanceResize:
    """Hold `spec` (the new flavor's sizes) on `host`'s node for the resize of `record`.
    Idempotent: a record that holds a claim already keeps it. On the source host itself the
    instance slot is not counted twice (the instance is there already)."""
    with transaction.atomic():
        Instance.all_objects.select_for_update().get(pk=record.instance_id)
        row = InstanceResize.objects.select_for_update().get(pk=record.pk)
        if row.dest_compute_node_id is not None:
            return row
        nodes = ComputeNode.objects.select_for_update().filter(host=host)
        if nodename:
            nodes = nodes.filter(hypervisor_hostname=nodename)
        node = nodes.order_by("id").first()
        if node is None:
            raise ClaimFailed(f"Host {host} has no compute node.")
        same_host = host == row.source_host
        if same_host:  # the slot is the instance's own: only the sizes must fit
            problem = (None if ram_fits(node, spec.memory_mb) and cores_fit(node, spec.vcpus)
                       and disk_fits(node, spec.disk_mb) else "not enough RAM, vcpus or disk")
        else:
            problem = capacity_problem(node, spec)
        if problem:
            raise ClaimFailed(f"Resize claim of instance {spec.instance_uuid} on host {host} failed: {problem}.")
        instances = 0 if same_host else 1
        _add(node, spec.vcpus, spec.memory_mb, spec.disk_gb, instances)
        row.dest_host, row.dest_node, row.dest_compute_node = host, node.hypervisor_hostname, node
        row.claim_vcpus, row.claim_memory_mb, row.claim_disk_gb = spec.vcpus, spec.memory_mb, spec.disk_gb
        row.claim_instances = instances
        row.save(update_fields=["dest_host", "dest_node", "dest_compute_node", "claim_vcpus", "claim_memory_mb",
                                "claim_disk_gb", "claim_instances", "updated_at"])
        log.info("resize claim vcpus=%d ram=%d disk=%d on %s for instance %s",
                 spec.vcpus, spec.memory_mb, spec.disk_gb, host, spec.instance_uuid)
        return row


def _take_back(row: InstanceResize) -> bool:
    if row.dest_compute_node_id is None:
        return False
    node = ComputeNode.objects.select_for_update().filter(pk=row.dest_compute_node_id).first()
    if node is not None:
        _add(node, -row.claim_vcpus, -row.claim_memory_mb, -row.claim_disk_gb, -row.claim_instances)
    row.dest_compute_node = None
    row.claim_vcpus = row.claim_memory_mb = row.claim_disk_gb = row.claim_instances = 0
    row.save(update_fields=["dest_compute_node", "claim_vcpus", "claim_memory_mb", "claim_disk_gb",
                            "claim_instances", "updated_at"])
    return True


def release(record: InstanceResize) -> bool:
    """Give the destination claim back; False when there is none (released already)."""
    with transaction.atomic():
        Instance.all_objects.select_for_update().filter(pk=record.instance_id).first()
        row = InstanceResize.objects.select_for_update().filter(pk=record.pk).first()
        if row is None or not _take_back(row):
            return False
    log.info("released the resize claim of instance %s on %s", record.instance_id, row.dest_host)
    return True


def confirm(record: InstanceResize) -> bool:
    """The instance's Claim moves to the new flavor on the destination: the old sizes leave
    the source node, the resize claim's sizes (counted on the destination already) become
    the Claim. False when the resize claim was settled already."""
    with transaction.atomic():
        inst = Instance.all_objects.select_for_update().get(pk=record.instance_id)
        row = InstanceResize.objects.select_for_update().filter(pk=record.pk).first()
        if row is None or row.dest_compute_node_id is None:
            return False
        old = Claim.objects.select_for_update().filter(instance_id=inst.pk).first()
        if old is not None:
            source = ComputeNode.objects.select_for_update().filter(pk=old.compute_node_id).first()
            if source is not None:
                _add(source, -old.vcpus, -old.memory_mb, -old.disk_gb, -1)
            old.delete()
        dest = ComputeNode.objects.select_for_update().get(pk=row.dest_compute_node_id)
        _add(dest, 0, 0, 0, 1 - row.claim_instances)  # the instance's slot, now on the destination
        Claim.objects.create(instance=inst, compute_node=dest, host=dest.host, vcpus=row.claim_vcpus,
                             memory_mb=row.claim_memory_mb, disk_gb=row.claim_disk_gb)
        row.dest_compute_node = None
        row.save(update_fields=["dest_compute_node", "updated_at"])
    log.info("resize of instance %s confirmed: its claim is on %s", inst.uuid, dest.host)
    return True
