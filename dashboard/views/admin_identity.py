"""Admin panels: projects (create, enable/disable, roles of users on them) and users (create
with a password hashed by Django's hashers, a default project and a first role), through
identity.services.accounts as the Keystone-compatible API and `./manage.py project|user|role` use it."""
from django.contrib import messages
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from identity.services import accounts as identity_services
from identity.models import Project, RoleAssignment, User
from identity.services.policy import enforce

from ..admin_forms import ProjectCreateForm, ProjectEditForm, RoleAssignmentForm, UserCreateForm
from ..datatable import Column, Table
from .admin_common import submitted
from .admin_project_page import project_page
from .common import dashboard_view

PROJECTS, USERS = "/dashboard/admin/projects/", "/dashboard/admin/users/"
PROJECT_COLUMNS = [Column("name", "Name", ("name",)), Column("id", "ID", ("id",)),
                   Column("description", "Description", ("description",)), Column("users", "Users", ("members",)),
                   Column("status", "Status", ("enabled",)), Column("change", "Change")]
USER_COLUMNS = [Column("name", "Name", ("username",)), Column("email", "Email", ("email",)),
                Column("project", "Default project", ("default_project__name",)), Column("roles", "Roles"),
                Column("status", "Status", ("is_active",))]


def _project_list(request, form, status=200):
    table = Table(request, Project.objects.annotate(members=Count("role_assignments__user", distinct=True)),
                  PROJECT_COLUMNS, default="name", name="projects")
    return render(request, "dashboard/admin/projects.html", {"projects": table.object_list, "table": table,
                                                              "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@dashboard_view
def project_list(request):
    enforce(request.ctx, "identity:list_projects")
    if request.method == "GET":
        return _project_list(request, ProjectCreateForm())
    enforce(request.ctx, "identity:create_project")
    form = ProjectCreateForm(request.POST)
    if submitted(request, form, lambda data: identity_services.create_project(**data),
                 lambda project: f"Project {project.name} created.", errors=(identity_services.Duplicate,),
                 error_field="name",
                 describe=lambda _: f"A project named {form.cleaned_data['name']!r} already exists."):
        return redirect(PROJECTS)
    return _project_list(request, form, status=400)


@require_http_methods(["GET"])
@dashboard_view
def project_detail(request, project_id):
    enforce(request.ctx, "identity:list_grants", {"project_id": project_id})  # admin only: 403 before any 404
    enforce(request.ctx, "identity:get_project", {"project_id": project_id})
    return project_page(request, get_object_or_404(Project, pk=project_id))


@require_POST
@dashboard_view
def project_enable(request, project_id):
    enforce(request.ctx, "identity:update_project", {"project_id": project_id})
    project = get_object_or_404(Project, pk=project_id)
    enable = request.POST.get("enabled") == "1"
    if not enable and project.id == request.ctx.project_id:
        messages.error(request, f"Project {project.name} is the one you are working in: switch to another "
                                "project before disabling it.")
        return redirect(PROJECTS)
    identity_services.update_project(project, enabled=enable)
    messages.success(request, f"Project {project.name} {'enabled' if enable else 'disabled'}.")
    return redirect(PROJECTS)


@require_POST
@dashboard_view
def project_edit(request, project_id):
    enforce(request.ctx, "identity:update_project", {"project_id": project_id})
    project = get_object_or_404(Project, pk=project_id)
    form = ProjectEditForm(request.POST)
    if submitted(request, form, lambda data: identity_services.update_project(project, **data),
                 lambda saved: f"Project {saved.name} saved.", errors=(identity_services.Duplicate,),
                 error_field="name",
                 describe=lambda _: f"A project named {form.cleaned_data['name']!r} already exists."):
        return redirect(f"{PROJECTS}{project.id}/")
    project.refresh_from_db()
    return project_page(request, project, edit_form=form, status=400)


@require_POST
@dashboard_view
def project_role_add(request, project_id):
    enforce(request.ctx, "identity:create_grant", {"project_id": project_id})
    project = get_object_or_404(Project, pk=project_id)
    form = RoleAssignmentForm(request.POST)
    if not form.is_valid():
        return project_page(request, project, role_form=form, status=400)
    user, role = form.cleaned_data["user"], form.cleaned_data["role"]
    identity_services.assign_role(user, role, project)
    messages.success(request, f"{user.username} now has role {role.name} on {project.name}.")
    return redirect(f"{PROJECTS}{project.id}/")


@require_POST
@dashboard_view
def project_role_remove(request, project_id):
    enforce(request.ctx, "identity:revoke_grant", {"project_id": project_id})
    project = get_object_or_404(Project, pk=project_id)
    form = RoleAssignmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Unknown user or role.")
    else:
        user, role = form.cleaned_data["user"], form.cleaned_data["role"]
        if identity_services.remove_role(user, role, project):
            messages.success(request, f"Role {role.name} of {user.username} on {project.name} removed.")
        else:
            messages.error(request, f"{user.username} has no role {role.name} on {project.name}.")
    return redirect(f"{PROJECTS}{project.id}/")


def _user_list(request, form, status=200):
    assignments = RoleAssignment.objects.select_related("role", "project").order_by("project__name", "role__name")
    users = User.objects.select_related("default_project").prefetch_related(
        Prefetch("role_assignments", queryset=assignments))
    table = Table(request, users, USER_COLUMNS, default="name", name="users")
    return render(request, "dashboard/admin/users.html", {"users": table.object_list, "table": table, "form": form},
                  status=status)


@require_http_methods(["GET", "POST"])
@dashboard_view
def user_list(request):
    enforce(request.ctx, "identity:list_users")
    if request.method == "GET":
        return _user_list(request, UserCreateForm())
    enforce(request.ctx, "identity:create_user")
    form = UserCreateForm(request.POST)
    if submitted(request, form, lambda data: identity_services.create_user_with_role(
                     data["name"], data["password"], default_project=data["default_project"], email=data["email"],
                     enabled=data["enabled"], role=data["role"]),
                 lambda user: f"User {user.username} created.", errors=(identity_services.Duplicate,),
                 error_field="name", describe=lambda _: f"A user named {form.cleaned_data['name']!r} already exists."):
        return redirect(USERS)
    return _user_list(request, form, status=400)
