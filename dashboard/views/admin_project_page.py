"""The admin page of one project: its users' roles and its quotas (usage against limit), with
the forms that change them. The projects panel shows it; the quota form shows it again with
its errors."""
from django.shortcuts import render

from identity.services import quotas
from identity.models import RoleAssignment

from ..admin_forms import ProjectEditForm, QuotaLimitsForm, RoleAssignmentForm


def quota_rows(details: dict) -> list[dict]:
    """One row a resource: used (in use + reserved), limit, percent for a bar (None: unlimited)."""
    rows = []
    for resource, d in sorted(details.items()):
        used = d["in_use"] + d["reserved"]
        limit = d["limit"]
        percent = None if limit == quotas.UNLIMITED else (100 if limit == 0 else min(100, round(100 * used / limit)))
        rows.append({"resource": resource, "label": resource.replace("_", " "), "used": used,
                     "reserved": d["reserved"], "limit": limit, "percent": percent})
    return rows


def project_page(request, project, role_form=None, quota_form=None, edit_form=None, status=200):
    details = quotas.get_quota_details(project)
    assignments = (RoleAssignment.objects.filter(project=project).select_related("user", "role")
                   .order_by("user__username", "role__name"))
    context = {
        "project": project, "assignments": assignments, "quotas": quota_rows(details),
        "role_form": role_form or RoleAssignmentForm(),
        "edit_form": edit_form or ProjectEditForm(initial={"name": project.name, "description": project.description}),
        "quota_form": quota_form or QuotaLimitsForm({r: d["limit"] for r, d in sorted(details.items())}),
    }
    return render(request, "dashboard/admin/project.html", context, status=status)
