"""The overview's usage summary for a date range (compute.services.usage) and its CSV."""
import csv
import datetime

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from compute.services import usage
from identity.services.policy import authorize, enforce

from ..project_forms import UsageForm
from .common import dashboard_view

DEFAULT_DAYS = 30
SHOWN_ROWS = 50  # the overview shows the biggest users; the CSV has every instance


def usage_form(request) -> UsageForm:
    """The range in the query string, else the last 30 days."""
    if "start" in request.GET or "end" in request.GET:
        return UsageForm(request.GET)
    today = timezone.now().date()
    return UsageForm({"start": today - datetime.timedelta(days=DEFAULT_DAYS), "end": today})


def usage_context(request) -> dict:
    """What the overview shows of usage (nothing if the policy hides it)."""
    ctx = request.ctx
    if ctx.project is None or not authorize(ctx, "compute:os-simple-tenant-usage:show", {"project_id": ctx.project_id}):
        return {}
    form = usage_form(request)
    if not form.is_valid():
        return {"usage_form": form}
    start, end = form.period()
    summary = usage.project_usage(ctx.project_id, start, end)
    biggest = sorted(summary.instances, key=lambda u: u.vcpu_hours, reverse=True)[:SHOWN_ROWS]
    return {"usage_form": form, "usage": summary, "usage_rows": biggest,
            "usage_query": request.GET.urlencode() or f"start={form.cleaned_data['start']}&end={form.cleaned_data['end']}"}


@require_GET
@dashboard_view
def usage_csv(request):
    ctx = request.ctx
    enforce(ctx, "compute:os-simple-tenant-usage:show", {"project_id": ctx.project_id})
    form = usage_form(request)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponse(f"Bad date range: {message}\n", status=400, content_type="text/plain; charset=utf-8")
    start, end = form.period()
    summary = usage.project_usage(ctx.project_id, start, end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="usage-{ctx.project.name}-'
                                       f'{form.cleaned_data["start"]}-{form.cleaned_data["end"]}.csv"')
    writer = csv.writer(response)
    for row in usage.csv_rows(summary):
        writer.writerow(row)
    return response
