"""Server groups of the project: list (with their members), create with any of the four
policies (the soft ones and max_server_per_host too: the dashboard is not bound to the API's
microversions), delete; the launch form puts new servers in one. Through
compute.services.server_groups, after the API's policy checks."""
import uuid

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cloudproj.exceptions import CloudError
from compute.models import Instance
from compute.scheduling_models import POLICIES
from compute.services import server_groups as svc
from identity.services.policy import enforce

from .admin_common import submitted
from ..datatable import Column, Table
from .common import dashboard_view, error_message

GROUPS = "/dashboard/server-groups/"
COLUMNS = [Column("name", "Name", ("name",)), Column("policy", "Policy", ("policy",)), Column("members", "Members"),
           Column("created", "Created", ("created_at",)), Column("actions", "Actions")]


class ServerGroupForm(forms.Form):
    name = forms.CharField(max_length=255)
    policy = forms.ChoiceField(choices=[(p, p) for p in POLICIES])
    max_server_per_host = forms.IntegerField(
        required=False, min_value=1, label="Most servers per host",
        help_text="anti-affinity only (1 when empty)")


def _own(ctx) -> dict:
    return {"project_id": ctx.project_id, "user_id": ctx.user_id}


def _create(ctx, data):
    rules = {"max_server_per_host": data["max_server_per_host"]} if data.get("max_server_per_host") else None
    return svc.create_group(ctx, data["name"], data["policy"], rules)


@dashboard_view
def server_group_list(request):
    ctx = request.ctx
    if ctx.project is None:
        return render(request, "dashboard/no_project.html")
    enforce(ctx, "compute:server-groups:index", _own(ctx))
    form = ServerGroupForm(request.POST or None)
    if request.method == "POST":
        enforce(ctx, "compute:server-groups:create", _own(ctx))
        if submitted(request, form, lambda data: _create(ctx, data),
                     lambda group: f"Server group {group.name} ({group.policy}) created."):
            return redirect(GROUPS)
    table = Table(request, svc.list_groups(ctx), COLUMNS, default="name", name="server-groups")
    groups = list(table.object_list)
    members = svc.members_by_group(groups)
    names = dict(Instance.objects.filter(uuid__in=[u for uuids in members.values() for u in uuids])
                 .values_list("uuid", "display_name"))
    rows = [{"group": g, "members": [(u, names.get(uuid.UUID(u), u)) for u in members.get(g.pk, [])]}
            for g in groups]
    return render(request, "dashboard/server_groups/list.html", {"rows": rows, "form": form, "table": table},
                  status=400 if form.errors else 200)


@require_POST
@dashboard_view
def server_group_delete(request, group_id):
    ctx = request.ctx
    group = svc.get_group(ctx, group_id)  # another project's: 404
    enforce(ctx, "compute:server-groups:delete", {"project_id": group.project_id, "user_id": group.user_id})
    try:
        svc.delete_group(ctx, group_id)
    except CloudError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, f"Server group {group.name} deleted; its servers stay where they are.")
    return redirect(GROUPS)
