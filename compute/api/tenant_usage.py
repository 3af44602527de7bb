"""os-simple-tenant-usage (admin: every project; a project's reader: its own) and
os-instance_usage_audit_log (admin), in Nova 2.1's bodies. Usage comes from
compute.services.usage (the dashboard's overview uses the same): each instance's hours inside
the period from launched_at to terminated_at/deleted_at (or now), times its flavor. From 2.40
both take limit and marker (an instance id: 400 for an unknown one) and page over instances."""
from datetime import datetime
from datetime import timezone as dt_timezone

from django.utils import timezone
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.services import usage
from identity.services.policy import enforce

from .base import ComputeAPIView, api_version, marker_page

MAX_LIMIT = 1000  # Nova's [api]max_limit: before 2.40 the listing has no paging, only this cap
PAGING_VERSION = (2, 40)  # limit and marker (an instance id), tenant_usage(s)_links
TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def _parse_time(value: str | None) -> datetime:
    """A query-string time in one of Nova's formats (naive: UTC); empty or absent: now."""
    if not value:
        return timezone.now()
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=dt_timezone.utc)
        except ValueError:
            continue
    raise BadRequest("Datetime is in invalid format")


def _period(request) -> tuple[datetime, datetime, bool]:
    start = _parse_time(request.query_params.get("start"))
    stop = _parse_time(request.query_params.get("end"))
    if not start < stop:
        raise BadRequest("Invalid start time. The start time cannot occur after the end time.")
    return start, min(stop, timezone.now()), request.query_params.get("detailed", "0") == "1"


def _time(value: datetime | None) -> str | None:
    """Nova's rendering: naive UTC ISO 8601 (2012-10-08T20:10:44.587336)."""
    return value.astimezone(dt_timezone.utc).replace(tzinfo=None).isoformat() if value else None


def _server_usage(row: usage.InstanceUsage) -> dict:
    return {
        "instance_id": row.uuid, "name": row.name, "tenant_id": row.project_id, "flavor": row.flavor,
        "hours": row.hours, "vcpus": row.vcpus, "memory_mb": row.memory_mb, "local_gb": row.disk_gb,
        "started_at": _time(row.started_at), "ended_at": _time(row.ended_at), "state": row.state,
        "uptime": row.uptime,
    }


def _tenant_usage(project_id: str, summary: usage.UsageSummary, detailed: bool) -> dict:
    body = {
        "tenant_id": project_id,
        "total_hours": summary.total("hours"),
        "total_vcpus_usage": summary.total("vcpu_hours"),
        "total_memory_mb_usage": summary.total("memory_mb_hours"),
        "total_local_gb_usage": summary.total("disk_gb_hours"),
        "start": _time(summary.start),
        "stop": _time(summary.end),
    }
    if detailed:
        body["server_usages"] = [_server_usage(row) for row in summary.instances]
    return body


def _page(request, rows: list, path: str) -> tuple[list, list]:
    """(the page of instance usages, its next links): from 2.40 the client's limit and marker
    (an instance id), before it the first MAX_LIMIT."""
    if api_version(request) < PAGING_VERSION:
        return rows[:MAX_LIMIT], []
    return marker_page(request, rows, lambda row: row.uuid, path)


class TenantUsageListView(ComputeAPIView):
    def get(self, request):
        enforce(self.ctx, "compute:os-simple-tenant-usage:list")
        start, stop, detailed = _period(request)
        rows, links = _page(request, usage.instance_usages(start, stop), "os-simple-tenant-usage")
        body = {"tenant_usages": [_tenant_usage(project_id, summary, detailed)
                                  for project_id, summary in usage.by_project(start, stop, rows).items()]}
        if links:
            body["tenant_usages_links"] = links
        return Response(body)


class TenantUsageView(ComputeAPIView):
    def get(self, request, project_id):
        enforce(self.ctx, "compute:os-simple-tenant-usage:show", {"project_id": project_id})
        start, stop, _detailed = _period(request)
        summary = usage.project_usage(project_id, start, stop)
        summary.instances, links = _page(request, summary.instances, f"os-simple-tenant-usage/{project_id}")
        if not summary.instances:  # no instance ran in the period: an empty object, as Nova
            return Response({"tenant_usage": {}})
        body = {"tenant_usage": _tenant_usage(project_id, summary, detailed=True)}
        if links:
            body["tenant_usage_links"] = links
        return Response(body)


class AuditLogListView(ComputeAPIView):
    def get(self, request):
        enforce(self.ctx, "compute:os-instance-usage-audit-log:list")
        return Response({"instance_usage_audit_logs": usage.audit_log()})


class AuditLogView(ComputeAPIView):
    """GET /os-instance_usage_audit_log/{before}: the period completed before that time
    ("2012-07-05 10:00:00" or with .microseconds)."""

    def get(self, request, before):
        enforce(self.ctx, "compute:os-instance-usage-audit-log:show")
        try:
            when = datetime.strptime(before, "%Y-%m-%d %H:%M:%S.%f" if "." in before else "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise BadRequest(f"Invalid timestamp for date {before}") from None
        return Response({"instance_usage_audit_log": usage.audit_log(when)})
