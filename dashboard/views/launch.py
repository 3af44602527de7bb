"""The launch form: what the project may use, the quota headroom before submitting, and the
servers created by the service `POST /servers` calls, after the same policy check."""
import base64

from django.contrib import messages
from django.shortcuts import redirect, render
from rest_framework.exceptions import APIException

from compute.api.servers import find_image
from compute.services import flavors as flavor_service
from compute.services import operations
from cloudproj.exceptions import CloudError
from identity.services.policy import enforce

from ..forms import LaunchForm
from .auth import quota_charts
from .common import dashboard_view, error_message


@dashboard_view
def launch(request):
    ctx = request.ctx
    if ctx.project is None:
        return render(request, "dashboard/no_project.html")
    enforce(ctx, "compute:servers:create", {"project_id": ctx.project_id, "user_id": ctx.user_id})
    form = LaunchForm(ctx, request.POST or None, initial={"image": request.GET.get("image", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            flavor = flavor_service.get_flavor(data["flavor"], ctx.project_id, ctx.is_admin)
            user_data = data["user_data"]
            created = operations.create_servers(
                ctx, data["name"], flavor, find_image(ctx, data["image"]),
                networks=[{"uuid": data["network"]}] if data["network"] else None,
                security_groups=data["security_groups"] or None,
                key_name=data["key_name"] or None,
                metadata=data["metadata"] or None,
                user_data=base64.b64encode(user_data.encode()).decode() if user_data else None,
                availability_zone=data["availability_zone"] or None,
                scheduler_hints={"group": data["server_group"]} if data["server_group"] else None,
                min_count=data["count"], max_count=data["count"],
            )
        except (CloudError, APIException) as exc:
            form.add_error(None, error_message(exc))
        else:
            messages.success(request, f"Launching {len(created)} instance(s) named {data['name']}.")
            return redirect("/dashboard/instances/")
    context = {"form": form, "charts": quota_charts(ctx.project), "flavor_sizes": form.flavor_sizes()}
    return render(request, "dashboard/instances/launch.html", context, status=400 if form.errors else 200)
