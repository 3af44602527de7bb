"""Usage of a project over a period (Nova's os-simple-tenant-usage, per instance): how long
each instance ran inside the period, from `launched_at` to `terminated_at` (or now), and
what that is in vCPU-hours, RAM MB-hours and disk GB-hours. Instances that never launched
used nothing. Deleted instances count for the time they ran."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db.models import Q
from django.utils import timezone

from ..models import Instance, Service
from cloudproj.exceptions import Invalid

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
    project_id: str = ""
    state: str = ""  # the vm_state, or "terminated" once it ended (Nova)

    @property
    def uptime(self) -> int:
        """Whole seconds from launch to termination (or to now while it runs), as Nova."""
        return int(((self.ended_at or timezone.now()) - self.started_at).total_seconds())

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
    return _summary(start, end, _usages(start, end, project_id=project_id))


def projects_usage(start: datetime, end: datetime, limit: int | None = None) -> dict[str, UsageSummary]:
    """{project_id: its usage} over every project with an instance that ran during [start,
    end), in order of the instances' launch; at most `limit` instances are counted (Nova
    caps its os-simple-tenant-usage listing at its max_limit)."""
    return by_project(start, end, _usages(start, end, limit=limit))


def instance_usages(start: datetime, end: datetime) -> list:
    """Every instance's usage during [start, end), in order of launch (os-simple-tenant-usage
    pages over these from compute API 2.40)."""
    return _usages(start, end)


def by_project(start: datetime, end: datetime, rows: list) -> dict[str, UsageSummary]:
    """{project_id: its usage} of instance usage rows, in their order."""
    summaries: dict[str, UsageSummary] = {}
    for row in rows:
        summaries.setdefault(row.project_id, _summary(start, end, [])).instances.append(row)
    return summaries


def _summary(start: datetime, end: datetime, rows: list) -> UsageSummary:
    return UsageSummary(start=start, end=end, instances=rows)


def _usages(start: datetime, end: datetime, project_id: str | None = None, limit: int | None = None) -> list:
    """Instances launched before `end` and not ended before `start` (deleted ones included:
    they count for the time they ran), with the hours each ran inside [start, end)."""
    now = timezone.now()
    qs = Instance.all_objects.filter(launched_at__isnull=False, launched_at__lt=end)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    qs = (qs.filter(Q(terminated_at__isnull=True) | Q(terminated_at__gt=start))
          .exclude(terminated_at__isnull=True, deleted_at__lte=start)
          .order_by("launched_at", "id")
          .values_list("uuid", "display_name", "flavor_name", "vcpus", "memory_mb", "root_gb", "ephemeral_gb",
                       "launched_at", "terminated_at", "deleted_at", "project_id", "vm_state"))
    if limit is not None:
        qs = qs[:limit]
    usages = []
    # tuples, not models: a month of a big project stays fast
    for (uuid, name, flavor, vcpus, memory_mb, root_gb, ephemeral_gb, launched_at, terminated_at, deleted_at,
         project, vm_state) in qs:
        ended_at = terminated_at or deleted_at
        seconds = max(0.0, (min(ended_at or now, end) - max(launched_at, start)).total_seconds())
        usages.append(InstanceUsage(
            uuid=str(uuid), name=name, flavor=flavor or "", vcpus=vcpus, memory_mb=memory_mb,
            disk_gb=root_gb + ephemeral_gb, started_at=launched_at, ended_at=ended_at,
            hours=seconds / SECONDS_PER_HOUR, project_id=str(project or ""),
            state="terminated" if ended_at else vm_state,
        ))
    return usages


@dataclass
class UsageBucket:
    """The usage of a slice [start, end) of a period, summed over the instances."""
    start: datetime
    end: datetime
    vcpu_hours: float = 0.0
    memory_mb_hours: float = 0.0
    disk_gb_hours: float = 0.0
    instances: int = 0  # instances that ran during the slice


def bucket_seconds(start: datetime, end: datetime, max_buckets: int = 60) -> int:
    """A slice length: whole days, so that [start, end) makes at most `max_buckets` slices."""
    days = max(1, -(-int((end - start).total_seconds()) // 86400))
    return 86400 * max(1, -(-days // max_buckets))


def series(summary: UsageSummary, step_seconds: int) -> list[UsageBucket]:
    """The summary's usage cut into consecutive slices of `step_seconds` from its start (the
    last one ends at the period's end): what each instance used inside each slice."""
    start, end = summary.start, summary.end
    total = max(0.0, (end - start).total_seconds())
    count = max(1, -(-int(total) // step_seconds))
    buckets = []
    for i in range(count):
        b_start = start + timedelta(seconds=i * step_seconds)
        buckets.append(UsageBucket(start=b_start, end=min(end, b_start + timedelta(seconds=step_seconds))))
    # seconds from the period's start, as floats: a month of a thousand instances stays fast
    now = (timezone.now() - start).total_seconds()
    for row in summary.instances:
        run_start = max(0.0, (row.started_at - start).total_seconds())
        run_end = min((row.ended_at - start).total_seconds() if row.ended_at else now, total)
        if run_end <= run_start:
            continue
        first = int(run_start // step_seconds)
        last = min(count - 1, int((run_end - 1e-9) // step_seconds))
        for index in range(first, last + 1):
            offset = index * step_seconds
            hours = (min(run_end, offset + step_seconds) - max(run_start, offset)) / SECONDS_PER_HOUR
            if hours <= 0:
                continue
            bucket = buckets[index]
            bucket.vcpu_hours += hours * row.vcpus
            bucket.memory_mb_hours += hours * row.memory_mb
            bucket.disk_gb_hours += hours * row.disk_gb
            bucket.instances += 1
    return buckets


CSV_HEADER = ("instance_id", "name", "flavor", "vcpus", "ram_mb", "disk_gb", "launched_at", "terminated_at",
              "hours", "vcpu_hours", "ram_mb_hours", "disk_gb_hours")


def csv_rows(summary: UsageSummary):
    yield CSV_HEADER
    for u in summary.instances:
        yield (u.uuid, u.name, u.flavor, u.vcpus, u.memory_mb, u.disk_gb, u.started_at.isoformat(),
               u.ended_at.isoformat() if u.ended_at else "", f"{u.hours:.2f}", f"{u.vcpu_hours:.2f}",
               f"{u.memory_mb_hours:.2f}", f"{u.disk_gb_hours:.2f}")


# --- instance usage audit (Nova's os-instance_usage_audit_log) -----------------------------


def last_completed_audit_period(before: datetime | None = None) -> tuple[datetime, datetime]:
    """The most recent whole calendar month (UTC, naive) that ended before `before` (default
    now): Nova's default `instance_usage_audit_period = month`."""
    now = before or timezone.now().astimezone(dt_timezone.utc).replace(tzinfo=None)
    end = datetime(now.year, now.month, 1)
    if end >= now:
        end = datetime(end.year - 1, 12, 1) if end.month == 1 else datetime(end.year, end.month - 1, 1)
    begin = datetime(end.year - 1, 12, 1) if end.month == 1 else datetime(end.year, end.month - 1, 1)
    return begin, end


def audit_log(before: datetime | None = None) -> dict:
    """The instance usage audit of the last completed period, in Nova's shape.

    No audit task runs here (Nova's is off by default too: `instance_usage_audit = False`),
    so no host has a task log for the period: every compute service's host is reported as
    not run, `log` is empty and the totals are 0 — exactly what Nova reports when its audit
    is off. Usage itself is in os-simple-tenant-usage, computed from the instances."""
    try:
        begin, end = last_completed_audit_period(before)
    except (ValueError, OverflowError):  # a period before year 1
        raise Invalid(f"No audit period ends before {before}.") from None
    compute_hosts = sorted(set(Service.objects.filter(binary="nova-compute").values_list("host", flat=True)))
    done: set = set()
    return {
        "period_beginning": str(begin),
        "period_ending": str(end),
        "num_hosts": len(compute_hosts),
        "num_hosts_done": len(done),
        "num_hosts_running": 0,
        "num_hosts_not_run": len(compute_hosts),
        "hosts_not_run": compute_hosts,
        "total_instances": 0,
        "total_errors": 0,
        "overall_status": "%s hosts done. 0 errors." % (
            "ALL" if len(done) == len(compute_hosts) else f"{len(done)} of {len(compute_hosts)}"),
        "log": {},
    }
