"""Admin panel: flavors (list, create, delete) and the access list of private flavors, through
compute.services.flavors as the API's /flavors calls use it."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from compute.models import Flavor
from compute.services import flavors as flavor_service
from identity.models import Project
from identity.services.policy import enforce

from ..admin_forms import FlavorAccessForm, FlavorCreateForm
from ..datatable import Column, Table
from .admin_common import submitted
from .common import dashboard_view

FLAVORS = "/dashboard/admin/flavors/"
COLUMNS = [Column("name", "Name", ("name",)), Column("id", "ID", ("flavorid",)), Column("vcpus", "vCPUs", ("vcpus",)),
           Column("ram", "RAM", ("memory_mb", "vcpus", "name")), Column("disk", "Root disk", ("root_gb",)),
           Column("ephemeral", "Ephemeral", ("ephemeral_gb",)), Column("swap", "Swap", ("swap",)),
           Column("public", "Public", ("is_public",)), Column("specs", "Extra specs"), Column("actions", "Actions")]


def _flavor_list(request, form, status=200):
    table = Table(request, Flavor.objects.prefetch_related("extra_specs", "access"), COLUMNS, default="ram",
                  name="flavors")
    return render(request, "dashboard/admin/flavors.html", {"flavors": table.object_list, "table": table,
                                                             "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@dashboard_view
def flavor_list(request):
    enforce(request.ctx, "compute:flavors:list")
    enforce(request.ctx, "compute:flavor_access:list")  # the admin's view: private and disabled ones too
    if request.method == "GET":
        return _flavor_list(request, FlavorCreateForm())
    enforce(request.ctx, "compute:flavors:create")
    form = FlavorCreateForm(request.POST)
    if submitted(request, form, lambda data: flavor_service.create_flavor(**form.service_arguments()),
                 lambda flavor: f"Flavor {flavor.name} ({flavor.flavorid}) created."):
        return redirect(FLAVORS)
    return _flavor_list(request, form, status=400)


@require_POST
@dashboard_view
def flavor_delete(request, flavorid):
    enforce(request.ctx, "compute:flavors:delete")
    flavor = flavor_service.get_flavor(flavorid)
    flavor_service.delete_flavor(flavor)
    messages.success(request, f"Flavor {flavor.name} deleted (instances keep their copy of it).")
    return redirect(FLAVORS)


def _access_page(request, flavor, form, status=200):
    project_ids = flavor_service.access_list(flavor)
    names = dict(Project.objects.filter(id__in=project_ids).values_list("id", "name"))
    projects = [{"id": pid, "name": names.get(pid, "(deleted project)")} for pid in project_ids]
    form.fields["project"].queryset = Project.objects.exclude(id__in=project_ids).order_by("name")
    return render(request, "dashboard/admin/flavor_access.html",
                  {"flavor": flavor, "projects": projects, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@dashboard_view
def flavor_access(request, flavorid):
    enforce(request.ctx, "compute:flavor_access:list")
    flavor = flavor_service.get_flavor(flavorid)
    if request.method == "GET":
        return _access_page(request, flavor, FlavorAccessForm())
    enforce(request.ctx, "compute:flavor_access:add_tenant_access")
    form = FlavorAccessForm(request.POST)
    if submitted(request, form, lambda data: flavor_service.add_access(flavor, data["project"].id),
                 lambda _ids: f"Project {form.cleaned_data['project'].name} may now use flavor {flavor.name}."):
        return redirect(f"{FLAVORS}{flavor.flavorid}/access/")
    return _access_page(request, flavor, form, status=400)


@require_POST
@dashboard_view
def flavor_access_remove(request, flavorid):
    enforce(request.ctx, "compute:flavor_access:remove_tenant_access")
    flavor = flavor_service.get_flavor(flavorid)
    project_id = request.POST.get("project", "")
    flavor_service.remove_access(flavor, project_id)
    messages.success(request, f"Project {project_id} removed from flavor {flavor.name}'s access list.")
    return redirect(f"{FLAVORS}{flavor.flavorid}/access/")
