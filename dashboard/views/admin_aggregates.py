"""Admin panel: host aggregates (list, create with a zone, add and remove hosts, set the zone
and metadata, delete) through compute.services.aggregates as the API's /os-aggregates uses it."""
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cloudproj.exceptions import CloudError
from compute.models import Service
from compute.services import aggregates as svc
from identity.services.policy import enforce

from ..datatable import Column, Table
from .admin_common import submitted
from .common import dashboard_view, error_message

AGGREGATES = "/dashboard/admin/aggregates/"
COLUMNS = [Column("name", "Name", ("name",)), Column("zone", "Availability zone"), Column("hosts", "Hosts"),
           Column("metadata", "Metadata"), Column("actions", "Actions")]


class AggregateCreateForm(forms.Form):
    name = forms.CharField(max_length=255)
    availability_zone = forms.CharField(max_length=255, required=False, label="Availability zone")


def _page(request, form, status=200):
    table = Table(request, svc.list_aggregates(), COLUMNS, default="name", name="aggregates")
    rows = [
        {"aggregate": a, "zone": svc.zone_of(a), "hosts": svc.hosts_of(a),
         "metadata": {k: v for k, v in svc.metadata_of(a).items() if k != svc.AZ_KEY}}
        for a in table.object_list
    ]
    compute_hosts = sorted(set(Service.objects.filter(binary="nova-compute").values_list("host", flat=True)))
    return render(request, "dashboard/admin/aggregates.html",
                  {"rows": rows, "table": table, "form": form, "compute_hosts": compute_hosts}, status=status)


@require_http_methods(["GET", "POST"])
@dashboard_view
def aggregate_list(request):
    enforce(request.ctx, "compute:aggregates:index")
    if request.method == "GET":
        return _page(request, AggregateCreateForm())
    enforce(request.ctx, "compute:aggregates:create")
    form = AggregateCreateForm(request.POST)
    if submitted(request, form,
                 lambda data: svc.create_aggregate(data["name"], data["availability_zone"] or None),
                 lambda aggregate: f"Aggregate {aggregate.name} created."):
        return redirect(AGGREGATES)
    return _page(request, form, status=400)


OPERATIONS = ("add_host", "remove_host", "set_zone", "set_metadata", "delete")


@require_POST
@dashboard_view
def aggregate_update(request, aggregate_id):
    op = request.POST.get("op", "")
    if op not in OPERATIONS:
        messages.error(request, "Unknown operation.")
        return redirect(AGGREGATES)
    rule = {"set_zone": "update", "delete": "delete"}.get(op, op)
    enforce(request.ctx, f"compute:aggregates:{rule}")
    try:
        if op == "add_host":
            aggregate = svc.add_host(aggregate_id, request.POST.get("host", ""))
            done = f"Host {request.POST.get('host')} added to {aggregate.name}."
        elif op == "remove_host":
            aggregate = svc.remove_host(aggregate_id, request.POST.get("host", ""))
            done = f"Host {request.POST.get('host')} removed from {aggregate.name}."
        elif op == "set_zone":
            zone = request.POST.get("availability_zone", "").strip() or None
            aggregate = svc.update_aggregate(aggregate_id, availability_zone=zone, set_zone=True)
            done = f"{aggregate.name} is now in zone {zone}." if zone else f"{aggregate.name} has no zone now."
        elif op == "set_metadata":
            key, value = request.POST.get("key", "").strip(), request.POST.get("value", "")
            aggregate = svc.set_metadata(aggregate_id, {key: value if value != "" else None})
            done = f"{aggregate.name}: {key} set." if value != "" else f"{aggregate.name}: {key} removed."
        else:
            svc.delete_aggregate(aggregate_id)
            done = "Aggregate deleted."
    except CloudError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, done)
    return redirect(AGGREGATES)
