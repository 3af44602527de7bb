"""An admin deletes a project from its page, typing its name to confirm. The deletion is
identity.services.accounts.delete_project, as `DELETE /identity/v3/projects/{id}` and
`./manage.py project delete` do it: identity's hold on the project goes and its row stays as a
tombstone for the servers, volumes, floating IPs and images it still owns (an admin removes them
with `./manage.py project scrub <id>`; the All instances panel shows and acts on them meanwhile)."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from identity.models import Project
from identity.services import accounts as identity_services
from identity.services.policy import enforce

from .common import dashboard_view

PROJECTS = "/dashboard/admin/projects/"


@require_POST
@dashboard_view
def project_delete(request, project_id):
    enforce(request.ctx, "identity:delete_project", {"project_id": project_id})
    project = get_object_or_404(Project, pk=project_id)
    page = f"{PROJECTS}{project.id}/"
    if request.POST.get("confirm_name", "").strip() != project.name:
        messages.error(request, f"Type the project's name, {project.name}, to delete it.")
        return redirect(page)
    if project.id == request.ctx.project_id:
        messages.error(request, f"Project {project.name} is the one you are working in: switch to another "
                                "project before deleting it.")
        return redirect(page)
    identity_services.delete_project(project)
    messages.success(request, f"Project {project.name} deleted. What it still owns (servers, volumes, floating IPs, "
                              f"images) stays until an operator runs ./manage.py project scrub {project.id}.")
    return redirect(PROJECTS)
