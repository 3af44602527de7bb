"""Admin panels: services (up/down, enable/disable with a reason) and hypervisors (capacity:
vCPU, RAM, disk used/total and instances against MAX_INSTANCES_PER_HOST)."""
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from compute.models import is_up
from compute.services import hosts
from cloudproj.exceptions import CloudError
from identity.services.policy import enforce

from ..datatable import Column, Table
from .common import dashboard_view, error_message

SERVICE_COLUMNS = [Column("binary", "Binary", ("binary",)), Column("host", "Host", ("host", "binary")),
                   Column("zone", "Zone", ("availability_zone",)), Column("state", "State"),
                   Column("status", "Status", ("disabled",)), Column("heartbeat", "Last heartbeat", ("last_seen_up",)),
                   Column("change", "Change")]
# hypervisors are cards, not a table: these are the orders the page offers
HYPERVISOR_COLUMNS = [Column("name", "Name", ("hypervisor_hostname",)), Column("vcpus", "vCPUs used", ("vcpus_used",)),
                      Column("ram", "RAM used", ("memory_mb_used",)), Column("disk", "Disk used", ("local_gb_used",)),
                      Column("instances", "Instances", ("num_instances",))]


@require_GET
@dashboard_view
def service_list(request):
    enforce(request.ctx, "compute:services:list")
    table = Table(request, hosts.list_services(), SERVICE_COLUMNS, default="host", name="services")
    rows = [{"service": s, "up": is_up(s)} for s in table.object_list]
    return render(request, "dashboard/admin/services.html", {"rows": rows, "table": table})


@require_POST
@dashboard_view
def service_update(request):
    enforce(request.ctx, "compute:services:update")
    host, binary = request.POST.get("host", ""), request.POST.get("binary", "")
    disable = request.POST.get("disable") == "1"
    reason = request.POST.get("reason", "").strip()[:255] or None
    try:
        service = hosts.set_service_disabled(host, binary, disable, reason)
    except CloudError as exc:
        messages.error(request, error_message(exc))
    else:
        state = "disabled" + (f" ({service.disabled_reason})" if service.disabled_reason else "") if disable \
            else "enabled"
        messages.success(request, f"{service.binary} on {service.host} {state}.")
    return redirect("/dashboard/admin/services/")


def _percent(used, total) -> int:
    return 0 if not total else min(100, round(100 * used / total))


@require_GET
@dashboard_view
def hypervisor_list(request):
    enforce(request.ctx, "compute:hypervisors:list")
    table = Table(request, hosts.list_compute_nodes(), HYPERVISOR_COLUMNS, default="name", name="hypervisors")
    rows = []
    for node in table.object_list:
        bars = [
            ("vCPUs", node.vcpus_used, node.vcpus, ""),
            ("RAM", node.memory_mb_used, node.memory_mb, "MB"),
            ("Disk", node.local_gb_used, node.local_gb, "GB"),
            ("Instances", node.num_instances, settings.MAX_INSTANCES_PER_HOST, ""),  # NumInstancesFilter's limit
        ]
        rows.append({
            "node": node, "up": is_up(node.service), "disabled": node.service.disabled,
            "bars": [{"label": label, "used": used, "total": total, "unit": unit, "percent": _percent(used, total)}
                     for label, used, total, unit in bars],
        })
    return render(request, "dashboard/admin/hypervisors.html", {"rows": rows, "table": table})
