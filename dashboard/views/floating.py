"""Floating IPs of the project: allocate from a pool, release, associate with an instance,
disassociate, through floating.services.addresses after the API's policy (`netadmin` by
default: see floating/policies.py)."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from compute.models import Instance
from compute.services import instances as instance_service
from cloudproj.exceptions import CloudError
from floating.services import addresses, ranges
from identity.services.policy import authorize, enforce

from ..datatable import Column, Table
from .common import dashboard_view, error_message, next_or
from .instances import target

PAGE = "/dashboard/floating-ips/"
MAX_CHOICES = 500  # instances offered in the associate menu
COLUMNS = [Column("address", "Address", ("address",)), Column("pool", "Pool", ("pool",)),
           Column("instance", "Instance", ("instance_uuid",)), Column("fixed", "Fixed address"),
           Column("actions", "Actions")]


def _project_target(ctx, row=None) -> dict:
    return {"project_id": row.project_id if row is not None and row.project_id else ctx.project_id}


@require_GET
@dashboard_view
def floating_ip_list(request):
    ctx = request.ctx
    enforce(ctx, "compute:floating_ips:list", _project_target(ctx))
    table = Table(request, addresses.floating_ips_of(ctx), COLUMNS, default="address", name="floating-ips")
    rows = list(table.object_list)
    names = dict(Instance.objects.filter(uuid__in=[r.instance_uuid for r in rows if r.instance_uuid])
                 .values_list("uuid", "display_name"))
    choices = list(instance_service.instances_for(ctx).filter(host__isnull=False)
                   .order_by("display_name").values_list("uuid", "display_name")[:MAX_CHOICES])
    table_rows = [{"ip": row, "instance_name": names.get(row.instance_uuid)} for row in rows]
    context = {
        "rows": table_rows, "table": table, "bulk_actions": (("release", "Release", True),),
        "free": list(addresses.floating_ips_of(ctx).filter(instance_uuid__isnull=True)[:MAX_CHOICES]),
        "pools": ranges.pools(), "instances": choices,
        "may_change": authorize(ctx, "compute:floating_ips:create", _project_target(ctx)),
    }
    return render(request, "dashboard/floating_ips.html", context)


def _run(request, work, done: str):
    try:
        work()
    except CloudError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, done)
    return next_or(request, PAGE)


@require_POST
@dashboard_view
def floating_ip_allocate(request):
    ctx = request.ctx
    enforce(ctx, "compute:floating_ips:create", _project_target(ctx))
    try:
        row = addresses.allocate(ctx, request.POST.get("pool") or None)
    except CloudError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, f"Allocated {row.address} from pool {row.pool}.")
    return redirect(PAGE)


@require_POST
@dashboard_view
def floating_ip_release(request, address):
    ctx = request.ctx
    row = addresses.get_floating_ip(ctx, address)  # another project's: 404
    enforce(ctx, "compute:floating_ips:delete", _project_target(ctx, row))
    return _run(request, lambda: addresses.release(ctx, row), f"Released {row.address}.")


@require_POST
@dashboard_view
def floating_ip_associate(request):
    ctx = request.ctx
    row = addresses.get_floating_ip(ctx, request.POST.get("address", ""))
    instance = instance_service.get_instance(ctx, request.POST.get("instance", ""))
    enforce(ctx, "compute:floating_ips:add", target(instance))
    return _run(request, lambda: addresses.associate(ctx, instance, row.address),
                f"{row.address} now points at {instance.display_name}.")


@require_POST
@dashboard_view
def floating_ip_disassociate(request, address):
    ctx = request.ctx
    row = addresses.get_floating_ip(ctx, address)
    if row.instance_uuid is None:
        messages.error(request, f"Floating IP {row.address} is not associated.")
        return next_or(request, PAGE)
    instance = instance_service.get_instance(ctx, row.instance_uuid, include_deleted=True)
    enforce(ctx, "compute:floating_ips:remove", target(instance))
    return _run(request, lambda: addresses.disassociate(ctx, instance, row.address),
                f"{row.address} disassociated from {instance.display_name}.")
