"""Log in and out with an identity user (Django sessions), the project switcher, the overview."""
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from identity.services import lockout, quotas
from identity.models import User

from ..context import SESSION_PROJECT, choose_project, has_any_role, projects_for
from .common import dashboard_view
from .usage import usage_context

COMPUTE_CHARTS = (("instances", "Instances", ""), ("cores", "vCPUs", ""), ("ram", "RAM", "MB"))
OTHER_CHARTS = (("floating_ips", "Floating IPs", ""), ("security_groups", "Security groups", ""),
                ("volumes", "Volumes", ""), ("gigabytes", "Volume storage", "GB"), ("key_pairs", "Key pairs", ""))


def _safe_next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return "/dashboard/"


def _refusal(username: str) -> str:
    until = lockout.locked_until(User.objects.filter(username=username).first())
    if until is None:
        return "Invalid user name or password."
    minutes = max(1, round((until - timezone.now()).total_seconds() / 60))
    return (f"Too many failed logins: this account is locked for {minutes} more minute(s). "
            "Try again later, or ask an administrator.")


def login_view(request):
    error = None
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "")
        user = authenticate(request, username=username, password=request.POST.get("password", ""))
        if user is None:
            error = _refusal(username)
        elif not has_any_role(user):
            error = (f"The account {user.username} has no role in any project, so there is nothing it may use "
                     "here. Ask an administrator to give it a role in a project.")
        else:
            login(request, user)
            project = choose_project(user)
            request.session[SESSION_PROJECT] = project.id if project else None
            return redirect(_safe_next(request, request.POST.get("next")))
    context = {"error": error, "username": username, "next": request.GET.get("next") or request.POST.get("next", "")}
    return render(request, "dashboard/login.html", context, status=401 if error else 200)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("/dashboard/login/")


@require_POST
@dashboard_view
def switch_project(request):
    wanted = request.POST.get("project", "")
    project = next((p for p in projects_for(request.user) if p.id == wanted), None)
    if project is None:
        messages.error(request, "You have no role in that project.")
    else:
        request.session[SESSION_PROJECT] = project.id
        messages.success(request, f"Now working in project {project.name}.")
    return redirect(_safe_next(request, request.POST.get("next")))


def quota_charts(project, charts=COMPUTE_CHARTS) -> list[dict]:
    """Usage against the limit of each resource (in use plus reserved), for <meter> bars."""
    if project is None:
        return []
    details = quotas.get_quota_details(project)
    result = []
    for resource, label, unit in charts:
        row = details[resource]
        used = row["in_use"] + row["reserved"]
        limit = row["limit"]
        result.append({
            "resource": resource, "label": label, "unit": unit, "used": used, "limit": limit,
            "unlimited": limit < 0, "headroom": None if limit < 0 else max(0, limit - used),
        })
    return result


@dashboard_view
def overview(request):
    charts = quota_charts(request.ctx.project, COMPUTE_CHARTS + OTHER_CHARTS)
    return render(request, "dashboard/overview.html", {"charts": charts, **usage_context(request)})
