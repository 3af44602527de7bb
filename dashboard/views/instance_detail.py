"""One instance's page, in tabs: Overview (facts, addresses and floating IPs, volumes, security
groups, the actions), Log (the console log, refreshing), Console (the noVNC console, or why the
guest has none to show), Action log (every action with its steps) and, for admins, Diagnostics
(the hypervisor's counters, as `GET /servers/{id}/diagnostics` answers them). A running task shows its
progress from the action's events on every tab, refreshing until it settles."""
from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from compute.api.server_actions import CONSOLE_CONTROL
from compute.api.server_view import security_group_names
from compute.models import InstanceActionEvent
from compute.services import actions as action_service
from compute.services import diagnostics as diagnostics_service
from compute.services import instances as instance_service
from compute.services import operations
from cloudproj.exceptions import CloudError
from consoles.services.serial import serial_console_only
from floating.services import addresses
from identity.services.policy import authorize, enforce
from images.services.registry import visible_images
from secgroups.services.groups import groups_of_project
from volumes.services import attachments
from volumes.services.volumes import volumes_for

from ..progress import action_progress
from ..tables import build_rows
from .common import dashboard_view, error_message
from .instance_migrate import migrate_context
from .instance_resize import resize_flavors
from .instances import target

CONSOLE_LINES = 200  # the tail shown; the host never sends more than CONSOLE_OUTPUT_MAX_BYTES
TIMELINE_ACTIONS = 50  # the newest actions the Action log shows
TABS = (("overview", "Overview"), ("log", "Log"), ("console", "Console"), ("actions", "Action log"))
DIAGNOSTICS_TAB = ("diagnostics", "Diagnostics")  # admins (compute:servers:diagnostics)


def timeline(ctx, instance, limit: int = TIMELINE_ACTIONS) -> list[dict]:
    """The instance's newest actions, newest first, each with its steps (start, duration,
    result); tracebacks and hosts only where `compute:instance_actions:events` allows (admins),
    like `GET /servers/{id}/os-instance-actions/{request_id}`."""
    tgt = target(instance)
    show_traceback = authorize(ctx, "compute:instance_actions:events", tgt)
    show_details = authorize(ctx, "compute:instance_actions:events:details", tgt)
    action_rows = list(action_service.list_actions(instance)[:limit])
    events: dict = {}
    for event in InstanceActionEvent.objects.filter(action__in=action_rows).order_by("start_time", "id"):
        events.setdefault(event.action_id, []).append(event)
    result = []
    for action in action_rows:
        steps = []
        for event in events.get(action.pk, []):
            duration = (event.finish_time - event.start_time).total_seconds() if event.finish_time else None
            steps.append({
                "name": event.event, "start": event.start_time, "duration": duration,
                "result": event.result or "in progress",
                "details": event.details if (show_details or show_traceback) else None,
                "traceback": event.traceback if show_traceback else None,
                "host": event.host if show_traceback else None,
            })
        result.append({"action": action, "steps": steps})
    return result


def _overview(ctx, instance, row) -> dict:
    own = ctx.project_id == instance.project_id
    may_float = authorize(ctx, "compute:floating_ips:add", target(instance))
    return {
        "groups": security_group_names(instance),
        "attachments": list(attachments.attachments_of(instance)),
        "available_volumes": list(volumes_for(ctx, filters={"status": "available"}).order_by("name")[:200])
        if own else [],
        "project_groups": [g.name for g in groups_of_project(instance.project_id)],
        "images": [(str(i.id), i.name or str(i.id)) for i in
                   visible_images(ctx.project_id, ctx.is_admin).filter(status="active").order_by("name")[:500]
                   if (i.disk_format or "") not in ("aki", "ari")],
        "resize_flavors": resize_flavors(ctx, instance),
        # the project's unassociated floating IPs, to point one at this instance
        "free_floating": [f.address for f in addresses.floating_ips_of(ctx).filter(instance_uuid__isnull=True)[:200]]
        if own and may_float and row.fixed else [],
        "may_float": may_float,
        "may_offload": authorize(ctx, "compute:servers:shelve_offload", target(instance)),
        **migrate_context(ctx, instance),
    }


def diagnostics(ctx, instance) -> dict:
    """{"diagnostics": [(name, value)], "diagnostics_problem": why there are none or None},
    asked of the instance's host as the API does (a host that does not answer is a message)."""
    try:
        answer = diagnostics_service.server_diagnostics(ctx, instance)
    except CloudError as exc:
        return {"diagnostics": [], "diagnostics_problem": error_message(exc)}
    return {"diagnostics": sorted(answer.items()), "diagnostics_problem": None}


@require_GET
@dashboard_view
def instance_detail(request, instance_id):
    ctx = request.ctx
    instance = instance_service.get_instance(ctx, instance_id)  # another project's: 404
    enforce(ctx, "compute:servers:show", target(instance))
    tabs = TABS + ((DIAGNOSTICS_TAB,) if authorize(ctx, "compute:servers:diagnostics", target(instance)) else ())
    tab = request.GET.get("tab", "overview")
    if tab not in dict(tabs):
        tab = "overview"  # an unknown tab (or one this user may not see) is the overview, not an error
    row = build_rows([instance])[0]
    fault = action_service.latest_fault(instance) if row.status == "ERROR" else None
    context = {
        "row": row, "instance": instance, "fault": fault, "tab": tab, "tabs": tabs,
        "show_fault_details": fault is not None and (ctx.is_admin or fault.code != 500),
        "progress": action_progress(instance), "poll_seconds": settings.DASHBOARD_POLL_SECONDS,
        "console_lines": CONSOLE_LINES, "serial_only": serial_console_only(instance),
    }
    if tab == "overview":
        context.update(_overview(ctx, instance, row))
    elif tab == "actions":
        may_list = authorize(ctx, "compute:instance_actions:list", target(instance))
        context["timeline"] = timeline(ctx, instance) if may_list else None
    elif tab == "diagnostics":
        context.update(diagnostics(ctx, instance))
    return render(request, "dashboard/instances/detail.html", context)


@require_GET
@dashboard_view
def instance_console(request, instance_id):
    """The console log's tail, read by the instance's host through the API's path
    (operations.console_output → cloudproj/rpc.py); a host that does not answer is a message."""
    ctx = request.ctx
    instance = instance_service.get_instance(ctx, instance_id)
    enforce(ctx, "compute:servers:console_output", target(instance))
    output, problem = None, None
    try:
        lines = min(max(int(request.GET.get("lines", CONSOLE_LINES)), 1), 1000)
    except ValueError:
        lines = CONSOLE_LINES
    try:
        output = CONSOLE_CONTROL.sub("", operations.console_output(ctx, instance, length=lines))
    except CloudError as exc:
        problem = error_message(exc)
    context = {"instance": instance, "output": output, "problem": problem, "lines": lines}
    return render(request, "dashboard/instances/console.html", context)
