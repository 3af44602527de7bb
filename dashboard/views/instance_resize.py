"""The instance page's resize, rescue and shelve operations: resize to a flavor, confirm,
revert; rescue, unrescue; shelve, shelve-offload (admins), unshelve. Each goes through the service the Compute API's
action calls (compute/services/resize.py, rescue.py, shelve.py), after the same policy
check."""
from django.views.decorators.http import require_POST

from compute.services import flavors as flavor_service
from compute.services import rescue as rescue_service
from compute.services import resize as resize_service
from compute.services import shelve as shelve_service
from cloudproj.exceptions import Invalid, NotFound

from .common import dashboard_view
from .instance_manage import _operate


def resize_flavors(ctx, instance) -> list[tuple[str, str]]:
    """(flavorid, label) of the flavors the instance may be resized to (not its own)."""
    flavors = flavor_service.visible_flavors(ctx.project_id, ctx.is_admin).order_by("memory_mb", "name")
    return [(f.flavorid, f"{f.name} ({f.vcpus} vCPU, {f.memory_mb} MB, {f.root_gb} GB)") for f in flavors
            if f.flavorid != instance.flavorid and not f.disabled]


@require_POST
@dashboard_view
def instance_resize(request, instance_id):
    def work(instance):
        flavorid = request.POST.get("flavor", "")
        try:
            flavor = flavor_service.get_flavor(flavorid, request.ctx.project_id, request.ctx.is_admin)
        except NotFound:
            raise Invalid("Unable to locate requested flavor.") from None
        resize_service.resize_server(request.ctx, instance, flavor)
        return f"Resizing {instance.display_name} to {flavor.name}."

    return _operate(request, instance_id, "compute:servers:resize", work)


@require_POST
@dashboard_view
def instance_resize_confirm(request, instance_id):
    def work(instance):
        resize_service.confirm_resize(request.ctx, instance)
        return f"Confirming the resize of {instance.display_name}."

    return _operate(request, instance_id, "compute:servers:confirm_resize", work)


@require_POST
@dashboard_view
def instance_resize_revert(request, instance_id):
    def work(instance):
        resize_service.revert_resize(request.ctx, instance)
        return f"Reverting the resize of {instance.display_name}."

    return _operate(request, instance_id, "compute:servers:revert_resize", work)


@require_POST
@dashboard_view
def instance_rescue(request, instance_id):
    def work(instance):
        rescue_service.rescue_server(request.ctx, instance, None)
        return f"Rescuing {instance.display_name}: it boots from its image with its own disk second."

    return _operate(request, instance_id, "compute:servers:rescue", work)


@require_POST
@dashboard_view
def instance_unrescue(request, instance_id):
    def work(instance):
        rescue_service.unrescue_server(request.ctx, instance)
        return f"Unrescuing {instance.display_name}."

    return _operate(request, instance_id, "compute:servers:unrescue", work)


@require_POST
@dashboard_view
def instance_shelve(request, instance_id):
    def work(instance):
        shelve_service.shelve_server(request.ctx, instance)
        return f"Shelving {instance.display_name}."

    return _operate(request, instance_id, "compute:servers:shelve", work)


@require_POST
@dashboard_view
def instance_unshelve(request, instance_id):
    def work(instance):
        shelve_service.unshelve_server(request.ctx, instance)
        return f"Unshelving {instance.display_name}."

    return _operate(request, instance_id, "compute:servers:unshelve", work)


@require_POST
@dashboard_view
def instance_shelve_offload(request, instance_id):
    def work(instance):
        shelve_service.shelve_offload_server(request.ctx, instance)
        return f"Offloading {instance.display_name}: its host lets go of its domain, files and capacity."

    return _operate(request, instance_id, "compute:servers:shelve_offload", work)
