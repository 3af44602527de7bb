"""Rows written straight to the DB: hosts, projects with a user, instances, and a minimal
RequestContext (the scheduler, claims, instances, usage and dashboard tests)."""
import itertools

from django.utils import timezone

from compute.models import ComputeNode, Instance, Service

_seq = itertools.count()


def make_host(host, vcpus=4, memory_mb=3072, local_gb=100, zone="nova", disabled=False, up=True,
              hv_type="QEMU", arch="x86_64", **used) -> ComputeNode:
    """A nova-compute Service + its ComputeNode, written directly (simulated hosts)."""
    service = Service.objects.create(
        host=host, binary="nova-compute", topic="compute", availability_zone=zone, disabled=disabled,
        last_seen_up=timezone.now() if up else timezone.now() - timezone.timedelta(days=1),
    )
    node = ComputeNode(
        service=service, host=host, hypervisor_hostname=host, hypervisor_type=hv_type,
        cpu_info={"arch": arch}, vcpus=vcpus, memory_mb=memory_mb, local_gb=local_gb, **used,
    )
    node.recompute_free()
    node.save()
    return node


def make_project_user(name=None):
    from identity.models import Project, User

    name = name or f"p{next(_seq)}"
    project = Project.objects.create(name=name)
    user = User.objects.create(username=f"{name}-user", default_project=project)
    return project, user


def make_instance(project, user, memory_mb=512, vcpus=1, root_gb=0, ephemeral_gb=0, swap=0, **kw) -> Instance:
    fields = dict(
        display_name="vm", hostname="vm", project=project, user=user, flavorid="x", flavor_name="x",
        memory_mb=memory_mb, vcpus=vcpus, root_gb=root_gb, ephemeral_gb=ephemeral_gb, swap=swap,
        reservation_id="r-test0000", task_state="scheduling",
    )
    fields.update(kw)
    return Instance.objects.create(**fields)


class Ctx:
    """A minimal RequestContext stand-in."""

    def __init__(self, user, project, is_admin=False, request_id="req-test"):
        self.user, self.project, self.is_admin, self.request_id = user, project, is_admin, request_id

    @property
    def user_id(self):
        return self.user.id

    @property
    def project_id(self):
        return self.project.id if self.project else None


def register_host(name, up=True, **capacity):
    """A nova-compute Service registered the way the agent registers it (up, or last seen an
    hour ago) and its ComputeNode with `capacity` -> the Service."""
    from datetime import timedelta

    from compute.services import hosts

    service = hosts.register_service(name, "nova-compute", "nova")
    Service.objects.filter(pk=service.pk).update(
        last_seen_up=timezone.now() - (timedelta(0) if up else timedelta(hours=1)))
    node = ComputeNode(service=service, host=name, hypervisor_hostname=name, hypervisor_type="QEMU", **capacity)
    node.recompute_free()
    node.save()
    return service
