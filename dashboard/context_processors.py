"""The layout's navigation: current project, the user's other projects, admin links."""
from .context import projects_for
from .flower import flower_url


def dashboard(request):
    ctx = getattr(request, "ctx", None)
    if ctx is None or not request.path.startswith("/dashboard/"):
        return {}
    context = {"ctx": ctx, "user_projects": projects_for(request.user)}
    if ctx.is_admin:
        context["flower_url"] = flower_url(request)
    return context
