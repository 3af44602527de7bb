"""Admin panels: a project's quotas (usage against limit, edit limits: not below what the
project uses, as PUT os-quota-sets refuses) and the default quotas every project starts from
(os-quota-class-sets/default), through identity.services.quotas."""
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from identity.services import quotas
from identity.models import Project
from identity.services.policy import enforce

from ..admin_forms import QuotaLimitsForm
from .admin_common import submitted
from .admin_project_page import project_page
from .common import dashboard_view


def _listed(changes: dict) -> str:
    return ", ".join(f"{r} {v}" for r, v in sorted(changes.items())) or "nothing changed"


@require_POST
@dashboard_view
def project_quotas(request, project_id):
    enforce(request.ctx, "compute:quota_sets:update", {"project_id": project_id})
    project = get_object_or_404(Project, pk=project_id)
    current = quotas.get_quotas(project)
    form = QuotaLimitsForm(current, request.POST)
    if submitted(request, form, lambda _data: quotas.set_quotas(project, form.changed_limits(current)),
                 lambda changes: f"Quotas of {project.name} saved ({_listed(changes)}).",
                 errors=(quotas.QuotaError,), describe=str):
        return redirect(f"/dashboard/admin/projects/{project.id}/#quotas")
    return project_page(request, project, quota_form=form, status=400)


@require_http_methods(["GET", "POST"])
@dashboard_view
def default_quotas(request):
    enforce(request.ctx, "compute:quota_class_sets:show")
    current = quotas.get_defaults()
    form = QuotaLimitsForm(dict(sorted(current.items())), request.POST or None)
    status = 200
    if request.method == "POST":
        enforce(request.ctx, "compute:quota_class_sets:update")
        if submitted(request, form, lambda _data: quotas.set_defaults(form.changed_limits(current)),
                     lambda changes: f"Default quotas saved ({_listed(changes)}).",
                     errors=(quotas.QuotaError,), describe=str):
            return redirect("/dashboard/admin/quotas/")
        status = 400
    configured = quotas.configured_defaults()
    rows = [{"resource": r, "limit": v, "configured": configured[r]} for r, v in sorted(current.items())]
    return render(request, "dashboard/admin/default_quotas.html", {"form": form, "rows": rows}, status=status)
