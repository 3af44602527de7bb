"""Admin panels: fixed networks (list, create as `./manage.py network create` does for the
configured NETWORK_MANAGER, delete when no address is in use) and floating ranges (list with
used/free counts, create with a pool and interface, delete an unused range), through
network.services and floating.services.ranges."""
from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cloudproj.exceptions import CloudError
from floating.services import ranges
from identity.services.policy import enforce
from network.models import Network
from network.services import managers
from network.services import networks as network_service
from network.services import vlan as vlan_service

from ..admin_forms import FloatingRangeForm, NetworkCreateForm
from ..datatable import Column, Table
from .admin_common import submitted
from .common import dashboard_view, error_message

NETWORKS, FLOATING = "/dashboard/admin/networks/", "/dashboard/admin/floating-ranges/"
NETWORK_COLUMNS = [Column("label", "Label", ("label",)), Column("cidr", "CIDR", ("cidr",)),
                   Column("bridge", "Bridge", ("bridge",)), Column("vlan", "VLAN", ("vlan",)),
                   Column("project", "Project", ("project_id",)), Column("dhcp", "DHCP", ("injected",)),
                   Column("hosts", "Hosts", ("host",)), Column("addresses", "Addresses", ("in_use",)),
                   Column("delete", "Delete")]


def _network_list(request, form, status=200):
    allocated = Count("fixed_ips", filter=Q(fixed_ips__allocated=True) | Q(fixed_ips__instance_uuid__isnull=False))
    rows = Network.objects.select_related("project").annotate(addresses=Count("fixed_ips"), in_use=allocated)
    table = Table(request, rows, NETWORK_COLUMNS, default="label", name="networks")
    context = {"networks": table.object_list, "table": table, "form": form, "manager": managers.manager()}
    return render(request, "dashboard/admin/networks.html", context, status=status)


def _create_options(data: dict) -> dict:
    options = {key: data[key] or None for key in ("bridge", "bridge_interface", "dns1", "dns2", "host")}
    options.update(project=data["project"], multi_host=data["multi_host"], mtu=data["mtu"],
                   injected=not data["dhcp"])
    return options


@require_http_methods(["GET", "POST"])
@dashboard_view
def network_list(request):
    enforce(request.ctx, "compute:networks:list")
    enforce(request.ctx, "compute:networks:create")  # the admin's page: every project's networks and the form
    if request.method == "GET":
        return _network_list(request, NetworkCreateForm())
    form = NetworkCreateForm(request.POST)
    if submitted(request, form, lambda data: vlan_service.create_for_manager(
                     data["label"], data["cidr"], vlan_start=data["vlan_start"], **_create_options(data)),
                 lambda created: "Network " + ", ".join(f"{n.label} ({n.cidr} on {n.bridge})" for n in created)
                 + " created."):
        return redirect(NETWORKS)
    return _network_list(request, form, status=400)


@require_POST
@dashboard_view
def network_delete(request, network_uuid):
    enforce(request.ctx, "compute:networks:delete")
    network = network_service.get_network(str(network_uuid))
    try:
        network_service.delete_network(network)
    except CloudError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, f"Network {network.label} ({network.cidr}) deleted.")
    return redirect(NETWORKS)


def _range_list(request, form, status=200):
    context = {"ranges": ranges.summarize(), "form": form,
               "default_pool": settings.DEFAULT_FLOATING_POOL, "default_interface": settings.FLOATING_INTERFACE}
    return render(request, "dashboard/admin/floating_ranges.html", context, status=status)


@require_http_methods(["GET", "POST"])
@dashboard_view
def floating_range_list(request):
    enforce(request.ctx, "compute:floating_ranges:list")
    if request.method == "GET":
        return _range_list(request, FloatingRangeForm())
    enforce(request.ctx, "compute:floating_ranges:create")
    form = FloatingRangeForm(request.POST)
    if submitted(request, form, lambda data: ranges.create_range(data["ip_range"], pool=data["pool"] or None,
                                                                 interface=data["interface"]),
                 lambda created: f"{len(created)} floating IPs of {form.cleaned_data['ip_range']} created in pool "
                                 f"{created[0].pool if created else ''}."):
        return redirect(FLOATING)
    return _range_list(request, form, status=400)


@require_POST
@dashboard_view
def floating_range_delete(request):
    enforce(request.ctx, "compute:floating_ranges:delete")
    ip_range = request.POST.get("ip_range", "")
    try:
        deleted = ranges.delete_range(ip_range)
    except CloudError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, f"{deleted} floating IPs of {ip_range} deleted.")
    return redirect(FLOATING)
