"""Usage pages: a project's usage over a chosen period (vCPU, RAM and disk hours per day or
per slice of days, and its quota use), and the admins' overview across projects (a table, a
chart, a CSV). Every figure comes from compute.services.usage, the os-simple-tenant-usage
service, after the same policies (`show` for one's project, `list` for every project)."""
import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from compute.services import usage
from identity.models import Project
from identity.services.policy import enforce

from ..charts import bar_chart, column_chart
from .auth import COMPUTE_CHARTS, OTHER_CHARTS, quota_charts
from .common import dashboard_view
from .usage import SHOWN_ROWS, usage_form

TOP_PROJECTS = 20  # bars in the admin chart; the table and the CSV have every project
MB_PER_GB = 1024


def _label(bucket, step: int) -> str:
    return f"{bucket.start:%m-%d}" if step == 86400 else f"{bucket.start:%m-%d}+{step // 86400}d"


def period_charts(summary) -> list:
    """vCPU-hours, RAM GB-hours and disk GB-hours of each slice of the summary's period."""
    step = usage.bucket_seconds(summary.start, summary.end)
    buckets = usage.series(summary, step)
    per = "day" if step == 86400 else f"{step // 86400} days"
    return [
        column_chart("vcpu", f"vCPU-hours per {per}", "vCPU-hours",
                     [(_label(b, step), b.vcpu_hours) for b in buckets]),
        column_chart("ram", f"RAM GB-hours per {per}", "RAM GB-hours",
                     [(_label(b, step), b.memory_mb_hours / MB_PER_GB) for b in buckets]),
        column_chart("disk", f"Disk GB-hours per {per}", "disk GB-hours",
                     [(_label(b, step), b.disk_gb_hours) for b in buckets]),
    ]


def quota_chart(project):
    rows = quota_charts(project, COMPUTE_CHARTS + OTHER_CHARTS)
    points, texts = [], []
    for r in rows:
        unit = f" {r['unit']}" if r["unit"] else ""
        if r["unlimited"]:
            points.append((r["label"], 0.0))
            texts.append(f"{r['used']}{unit} (no limit)")
        else:
            share = 100.0 if r["limit"] == 0 else min(100.0, 100.0 * r["used"] / r["limit"])
            points.append((r["label"], share))
            texts.append(f"{r['used']} of {r['limit']}{unit}")
    full = [label for (label, share), r in zip(points, rows) if not r["unlimited"] and share >= 100]
    summary = "Quota use: " + "; ".join(f"{label} {text}" for (label, _), text in zip(points, texts)) + "."
    if full:
        summary += " At the limit: " + ", ".join(full) + "."
    return bar_chart("quota", "Quota use", "% of the limit", points, limit=100, texts=texts, summary=summary)


@require_GET
@dashboard_view
def project_usage(request):
    ctx = request.ctx
    enforce(ctx, "compute:os-simple-tenant-usage:show", {"project_id": ctx.project_id})
    form = usage_form(request)
    context = {"usage_form": form, "quota_chart": quota_chart(ctx.project) if ctx.project else None}
    status = 200
    if form.is_valid():
        start, end = form.period()
        summary = usage.project_usage(ctx.project_id, start, end)
        context.update({
            "usage": summary, "charts": period_charts(summary),
            "usage_rows": sorted(summary.instances, key=lambda u: u.vcpu_hours, reverse=True)[:SHOWN_ROWS],
            "usage_query": f"start={form.cleaned_data['start']}&end={form.cleaned_data['end']}",
        })
    else:
        status = 400
    return render(request, "dashboard/usage/project.html", context, status=status)


def project_rows(summaries: dict) -> list[dict]:
    """One row a project (a deleted project's tombstone says so), most vCPU-hours first."""
    names = {str(pk): (name, deleted) for pk, name, deleted in
             Project.all_objects.filter(pk__in=list(summaries)).values_list("id", "name", "deleted_at")}
    rows = []
    for project_id, summary in summaries.items():
        name, deleted = names.get(project_id, (project_id, None))
        totals = summary.totals
        rows.append({"id": project_id, "name": name, "deleted": deleted is not None,
                     "instances": len(summary.instances), **totals,
                     "memory_gb_hours": totals["memory_mb_hours"] / MB_PER_GB})
    rows.sort(key=lambda r: (-r["vcpu_hours"], r["name"]))
    return rows


@require_GET
@dashboard_view
def admin_usage(request):
    enforce(request.ctx, "compute:os-simple-tenant-usage:list")
    form = usage_form(request)
    context = {"usage_form": form}
    status = 200
    if form.is_valid():
        start, end = form.period()
        summaries = usage.projects_usage(start, end)
        rows = project_rows(summaries)
        everything = usage.UsageSummary(start=start, end=end,
                                        instances=[u for s in summaries.values() for u in s.instances])
        title = "vCPU-hours by project" + (f" (the {TOP_PROJECTS} biggest)" if len(rows) > TOP_PROJECTS else "")
        context.update({
            "rows": rows, "totals": everything.totals, "instance_count": len(everything.instances),
            "project_chart": bar_chart("projects", title, "vCPU-hours",
                                       [(r["name"], r["vcpu_hours"]) for r in rows[:TOP_PROJECTS]]),
            "charts": period_charts(everything)[:1],
            "usage_query": f"start={form.cleaned_data['start']}&end={form.cleaned_data['end']}",
        })
    else:
        status = 400
    return render(request, "dashboard/usage/admin.html", context, status=status)


ADMIN_CSV_HEADER = ("project_id", "project_name", "deleted", "instances", "hours", "vcpu_hours", "ram_mb_hours",
                    "disk_gb_hours")


@require_GET
@dashboard_view
def admin_usage_csv(request):
    enforce(request.ctx, "compute:os-simple-tenant-usage:list")
    form = usage_form(request)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponse(f"Bad date range: {message}\n", status=400, content_type="text/plain; charset=utf-8")
    start, end = form.period()
    rows = project_rows(usage.projects_usage(start, end))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="usage-all-projects-{form.cleaned_data["start"]}-'
                                       f'{form.cleaned_data["end"]}.csv"')
    writer = csv.writer(response)
    writer.writerow(ADMIN_CSV_HEADER)
    for r in rows:
        writer.writerow((r["id"], _cell(r["name"]), "yes" if r["deleted"] else "no", r["instances"],
                         f"{r['hours']:.2f}", f"{r['vcpu_hours']:.2f}", f"{r['memory_mb_hours']:.2f}",
                         f"{r['disk_gb_hours']:.2f}"))
    return response


def _cell(text: str) -> str:
    """A name a spreadsheet would run as a formula (=, +, -, @ first) is quoted with a '."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
