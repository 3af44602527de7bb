"""Instances: the table of the current project (admins: every project), its live rows, row
actions and the launch form. Every operation goes through the services the Compute API calls,
after the same `enforce` the API does."""
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from compute.api.servers import _status_filter as status_filter
from compute.models import Instance
from compute.services import hosts
from compute.services import instances as instance_service
from compute.services import operations
from cloudproj.exceptions import CloudError
from identity.models import Project
from identity.services.policy import enforce
from rest_framework.exceptions import APIException

from ..datatable import Column, Table
from ..tables import build_rows
from .common import back, dashboard_view, error_message

# rows changed this long before the last poll are sent again: a row's updated_at is taken
# before its transaction commits, so a cursor without overlap could step over it
POLL_OVERLAP = timedelta(seconds=2)


def _columns(all_projects: bool) -> list[Column]:
    return [
        Column("name", "Name", ("display_name",)),
        *([Column("project", "Project", ("project_name",)), Column("host", "Host", ("host",))] if all_projects else []),
        Column("image", "Image"), Column("addresses", "Addresses"),
        Column("flavor", "Flavor", ("flavor_name",)), Column("key", "Key pair", ("key_name",)),
        Column("status", "Status", ("vm_state", "task_state")), Column("task", "Task", ("task_state",)),
        Column("power", "Power state", ("power_state",)), Column("zone", "Zone", ("availability_zone",)),
        Column("created", "Created", ("created_at",)), Column("actions", "Actions"),
    ]


COLUMNS, ADMIN_COLUMNS = _columns(False), _columns(True)
# bulk actions of the instances table: (action, label, destructive); see dashboard/views/bulk.py
BULK_ACTIONS = (("start", "Start", False), ("stop", "Stop", True), ("reboot", "Soft reboot", False),
                ("delete", "Delete", True))


def target(instance) -> dict:
    return {"project_id": instance.project_id, "user_id": instance.user_id}


def _filters(request) -> dict:
    return {
        "q": request.GET.get("q", "").strip(),
        "status": request.GET.get("status", "").strip().upper(),
        "host": request.GET.get("host", "").strip(),
        "project": request.GET.get("project", "").strip(),
    }


def _scoped(request, all_projects: bool):
    ctx = request.ctx
    if all_projects:
        enforce(ctx, "compute:servers:detail:get_all_tenants")
    else:
        enforce(ctx, "compute:servers:detail", {"project_id": ctx.project_id})
    return instance_service.instances_for(ctx, all_tenants=all_projects)


def _filtered(qs, filters: dict, all_projects: bool):
    if filters["q"]:
        qs = qs.filter(display_name__icontains=filters["q"])
    if filters["status"]:
        query, _vm_states = status_filter([filters["status"]])
        qs = qs.filter(query) if query is not None else qs.none()
    if all_projects and filters["host"]:
        qs = qs.filter(host=filters["host"])
    if all_projects and filters["project"]:
        qs = qs.filter(project_id=filters["project"])
    return qs


def _list(request, all_projects: bool):
    filters = _filters(request)
    now = timezone.now()
    qs = _filtered(_scoped(request, all_projects), filters, all_projects)
    if all_projects:
        # not select_related: its inner join would drop a server whose project row is gone
        # (deleted projects keep a tombstone, shown "project deleted"; older ones may not)
        qs = qs.prefetch_related("project").annotate(project_name=Subquery(
            Project.all_objects.filter(pk=OuterRef("project_id")).values("name")[:1]))  # sorts by it, no join
    table = Table(request, qs, ADMIN_COLUMNS if all_projects else COLUMNS, default="-created", name="instances")
    page = table.page
    rows = build_rows(page.object_list)
    newest = max((row.instance.created_at for row in rows), default=now)
    context = {
        "rows": rows, "page": page, "table": table, "filters": filters, "all_projects": all_projects,
        "statuses": ("ACTIVE", "BUILD", "SHUTOFF", "PAUSED", "SUSPENDED", "REBOOT", "HARD_REBOOT", "ERROR"),
        # new servers are put on top only where they belong: the first page of the newest-first order
        "poll": _poll_state(filters, all_projects, since=now, created_after=newest,
                            first_page=page.number == 1 and table.is_default_order),
        "bulk_actions": BULK_ACTIONS,
    }
    if all_projects:
        context["hosts"] = [host for host, _zone in hosts.hosts()]
        context["projects"] = _project_choices()
    return render(request, "dashboard/instances/list.html", context)


def _project_choices() -> list[tuple[str, str]]:
    """(id, label) of the live projects, then of the deleted ones that still own servers."""
    choices = list(Project.objects.order_by("name").values_list("id", "name"))
    owners = Instance.objects.values("project_id")
    deleted = Project.all_objects.deleted().filter(pk__in=owners).order_by("name").values_list("id", "name")
    return choices + [(pid, f"{name} (project deleted)") for pid, name in deleted]


def _poll_state(filters, all_projects, since, created_after, first_page=True) -> dict:
    query = {"since": since.isoformat(), "created_after": created_after.isoformat(),
             "first_page": "1" if first_page else "0", **{k: v for k, v in filters.items() if v}}
    if all_projects:
        query["all"] = "1"
    return {"url": f"/dashboard/instances/changes/?{urlencode(query)}", "interval": settings.DASHBOARD_POLL_SECONDS}


@require_GET
@dashboard_view
def instance_list(request):
    if request.ctx.project is None:
        return render(request, "dashboard/no_project.html", status=200)
    return _list(request, all_projects=False)


@require_GET
@dashboard_view
def admin_instance_list(request):
    return _list(request, all_projects=True)


def _parse_time(value: str):
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else timezone.make_aware(parsed, timezone.utc)


@require_GET
@dashboard_view
def instance_changes(request):
    """Only what changed since the last poll: changed rows (replaced in place), new rows
    (prepended on the first page), deleted rows (removed), and the next poller."""
    since = _parse_time(request.GET.get("since"))
    created_after = _parse_time(request.GET.get("created_after"))
    if since is None or created_after is None:
        return HttpResponseBadRequest("since and created_after must be ISO 8601 times.")
    all_projects = request.GET.get("all") == "1"
    first_page = request.GET.get("first_page", "1") == "1"
    filters = _filters(request)
    now = timezone.now()
    scoped = _scoped(request, all_projects)
    changed = list(
        _filtered(scoped, {**filters, "status": ""}, all_projects)
        .filter(updated_at__gt=since - POLL_OVERLAP).order_by("-created_at", "-id")[:200]
    )
    new = [i for i in changed if i.created_at > created_after]
    if new and filters["status"]:
        matching = set(_filtered(scoped, filters, all_projects).filter(pk__in=[i.pk for i in new])
                       .values_list("pk", flat=True))
        new = [i for i in new if i.pk in matching]
    if not first_page:
        new = []
    new_pks = {i.pk for i in new}
    updated = [i for i in changed if i.created_at <= created_after]
    deleted_scope = Instance.all_objects.filter(deleted_at__gt=since - POLL_OVERLAP)
    if not all_projects:
        deleted_scope = deleted_scope.filter(project_id=request.ctx.project_id)
    deleted = list(deleted_scope.values_list("uuid", flat=True)[:200])
    updated_pks = {i.pk for i in updated}
    rows = build_rows([i for i in changed if i.pk in new_pks or i.pk in updated_pks])
    newest = max([created_after, *(i.created_at for i in new)])
    context = {
        "new_rows": [r for r in rows if r.instance.pk in new_pks],
        "updated_rows": [r for r in rows if r.instance.pk not in new_pks],
        "deleted": deleted, "all_projects": all_projects,
        "poll": _poll_state(filters, all_projects, since=now, created_after=newest, first_page=first_page),
    }
    return render(request, "dashboard/instances/changes.html", context)


ACTIONS = {"reboot", "stop", "start", "pause", "unpause", "suspend", "resume"}


def _row_response(request, instance, all_projects: bool):
    """For htmx: the row again (its new task state); otherwise back to the page."""
    if request.htmx:
        instance.refresh_from_db()
        row = build_rows([instance])[0]
        return render(request, "dashboard/instances/row_response.html", {"row": row, "all_projects": all_projects})
    return back(request, "/dashboard/instances/")


@require_POST
@dashboard_view
def instance_action(request, instance_id):
    ctx = request.ctx
    instance = instance_service.get_instance(ctx, instance_id)  # another project's: 404
    action = request.POST.get("action", "")
    all_projects = request.POST.get("all") == "1"
    if action not in ACTIONS:
        return HttpResponseBadRequest("Unknown action.")
    reboot_type = request.POST.get("type", "SOFT").upper() if action == "reboot" else None
    try:
        enforce(ctx, f"compute:servers:{action}", target(instance))
        operations.request_action(ctx, instance, action, reboot_type=reboot_type)
    except (CloudError, APIException) as exc:
        messages.error(request, f"{instance.display_name}: {error_message(exc)}")
    else:
        label = f"{reboot_type.lower()} reboot" if reboot_type else action
        messages.success(request, f"Requested {label} of {instance.display_name}.")
    return _row_response(request, instance, all_projects)


@require_POST
@dashboard_view
def instance_delete(request, instance_id):
    ctx = request.ctx
    instance = instance_service.get_instance(ctx, instance_id)
    try:
        enforce(ctx, "compute:servers:delete", target(instance))
        operations.delete_server(ctx, instance)
    except (CloudError, APIException) as exc:
        messages.error(request, f"{instance.display_name}: {error_message(exc)}")
    else:
        messages.success(request, f"Deleting {instance.display_name}.")
    if request.htmx and instance.deleted_at is None:  # deleting on its host: the row shows it
        return _row_response(request, instance, request.POST.get("all") == "1")
    if request.htmx:  # gone already (no live host): the next poll removes the row
        return render(request, "dashboard/instances/row_gone.html", {"uuid": instance.uuid})
    if request.POST.get("next", "").startswith(f"/dashboard/instances/{instance.uuid}"):
        return redirect("/dashboard/instances/")
    return back(request, "/dashboard/instances/")
