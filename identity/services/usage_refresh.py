"""Quota usage recounted from the real resources (Nova's quota_usage_refresh), for drift left
by crashes between a resource change and its usage update.

    real_usage(project_id) -> {resource: n}      counted from the rows that hold resources
    user_usage(project_id, user_id) -> {resource: n}   a user's share (per-user quotas)
    refresh(project_id=None) -> [(project, resource, old, new)]   fixed rows only

Each project's usage rows are locked (SELECT ... FOR UPDATE, in resource order, as
`quotas.reserve` takes them) before the resources are counted, so a request that creates or
deletes a resource and commits its usage in one transaction is either counted completely or
waited for: the refresh never lands between its row change and its usage change. `reserved`
is left alone (reservations in flight expire on their own).
"""
import logging

from django.db import transaction
from django.db.models import Count, Sum

from identity.services import quotas
from identity.models import Project, QuotaUsage
from compute.models import Instance, KeyPair
from floating.models import FloatingIP
from secgroups.models import SecurityGroup
from volumes.models import Snapshot, Volume

log = logging.getLogger(__name__)

COUNTED = ("instances", "cores", "ram", "floating_ips", "security_groups", "volumes", "snapshots", "gigabytes")


def real_usage(project_id: str) -> dict:
    servers = Instance.objects.filter(project_id=project_id).aggregate(
        n=Count("id"), cores=Sum("vcpus"), ram=Sum("memory_mb"))
    volumes = Volume.objects.filter(project_id=project_id).aggregate(n=Count("id"), gb=Sum("size"))
    snapshots = Snapshot.objects.filter(project_id=project_id).aggregate(n=Count("id"), gb=Sum("size"))
    return {
        "instances": servers["n"],
        "cores": servers["cores"] or 0,
        "ram": servers["ram"] or 0,
        "floating_ips": FloatingIP.objects.filter(project_id=project_id).count(),
        "security_groups": SecurityGroup.objects.filter(project_id=project_id).count(),
        "volumes": volumes["n"],
        "snapshots": snapshots["n"],
        "gigabytes": (volumes["gb"] or 0) + (snapshots["gb"] or 0),
    }


# what a user holds inside a project, counted (Nova counts per-user usage the same way)
USER_COUNTED = ("instances", "cores", "ram", "key_pairs")


def user_usage(project_id: str, user_id: str) -> dict:
    servers = Instance.objects.filter(project_id=project_id, user_id=user_id).aggregate(
        n=Count("id"), cores=Sum("vcpus"), ram=Sum("memory_mb"))
    return {
        "instances": servers["n"],
        "cores": servers["cores"] or 0,
        "ram": servers["ram"] or 0,
        "key_pairs": KeyPair.objects.filter(user_id=user_id).count(),
    }


def _projects(project_id):
    if project_id is not None:
        return [project_id]
    with_usage = set(QuotaUsage.objects.values_list("project_id", flat=True).distinct())
    return sorted(with_usage | set(Project.objects.values_list("id", flat=True)))


def refresh_project(project_id: str) -> list[tuple]:
    changes = []
    with transaction.atomic():
        usages = quotas._lock_usages(project_id, COUNTED)
        actual = real_usage(project_id)  # counted after the lock: see the module docstring
        for resource in COUNTED:
            usage = usages[resource]
            if usage.in_use != actual[resource]:
                changes.append((project_id, resource, usage.in_use, actual[resource]))
                log.warning("quota usage of %s.%s drifted: in_use %d, real %d; fixed", project_id, resource,
                            usage.in_use, actual[resource])
                usage.in_use = actual[resource]
                usage.save(update_fields=["in_use", "updated_at"])
    return changes


def refresh(project_id: str | None = None) -> list[tuple]:
    """Recount every project (or one); returns the (project, resource, old, new) it fixed."""
    changes = []
    for pid in _projects(project_id):
        changes += refresh_project(pid)
    log.info("quota usage refresh: %d project(s), %d row(s) fixed", len(_projects(project_id)), len(changes))
    return changes
