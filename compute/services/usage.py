"""Usage of a project over a period (Nova's os-simple-tenant-usage, per instance): how long
each instance ran inside the period, from `launched_at` to `terminated_at` (or now), and
what that is in vCPU-hours, RAM MB-hours and disk GB-hours. Instances that never launched
used nothing. Deleted instances count for the time they ran."""
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from ..models import Instance

SECONDS_PER_HOUR = 3600


@dataclass
class InstanceUsage:
    uuid: str
    name: str
    flavor: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    started_at: datetime
    ended_at: datetime | None
    hours: float

    @property
    def vcpu_hours(self) -> float:
        return self.hours * self.vcpus

    @property
    def memory_mb_hours(self) -> float:
        return self.hours * self.memory_mb

    @property
    def disk_gb_hours(self) -> float:
        return self.hours * self.disk_gb


@dataclass
class UsageSummary:
    start: datetime
    end: datetime
    instances: list

    def total(self, field: str) -> float:
        return sum(getattr(row, field) for row in self.instances)

    @property
    def totals(self) -> dict:
        return {field: self.total(field) for field in ("hours", "vcpu_hours", "memory_mb_hours", "disk_gb_hours")}


def project_usage(project_id: str, start: datetime, end: datetime) -> UsageSummary:
    """The usage of every instance of the project that ran during [start, end)."""
    now = timezone.now()
    rows = (Instance.all_objects.filter(project_id=project_id, launched_at__isnull=False, launched_at__lt=end)
            .filter(Q(terminated_at__isnull=True) | Q(terminated_at__gt=start))
            .order_by("launched_at", "id")
            .values_list("uuid", "display_name", "flavor_name", "vcpus", "memory_mb", "root_gb", "ephemeral_gb",
                         "launched_at", "terminated_at"))  # tuples: a month of a big project stays fast
    usages = []
    for uuid, name, flavor, vcpus, memory_mb, root_gb, ephemeral_gb, launched_at, terminated_at in rows:
        seconds = max(0.0, (min(terminated_at or now, end) - max(launched_at, start)).total_seconds())
        usages.append(InstanceUsage(
            uuid=str(uuid), name=name, flavor=flavor or "", vcpus=vcpus, memory_mb=memory_mb,
            disk_gb=root_gb + ephemeral_gb, started_at=launched_at, ended_at=terminated_at,
            hours=seconds / SECONDS_PER_HOUR,
        ))
    return UsageSummary(start=start, end=end, instances=usages)


CSV_HEADER = ("instance_id", "name", "flavor", "vcpus", "ram_mb", "disk_gb", "launched_at", "terminated_at",
              "hours", "vcpu_hours", "ram_mb_hours", "disk_gb_hours")


def csv_rows(summary: UsageSummary):
    yield CSV_HEADER
    for u in summary.instances:
        yield (u.uuid, u.name, u.flavor, u.vcpus, u.memory_mb, u.disk_gb, u.started_at.isoformat(),
               u.ended_at.isoformat() if u.ended_at else "", f"{u.hours:.2f}", f"{u.vcpu_hours:.2f}",
               f"{u.memory_mb_hours:.2f}", f"{u.disk_gb_hours:.2f}")
