"""The layout's navigation: current project, the user's other projects, admin links."""
from .context import projects_for


def dashboard(request):
    ctx = getattr(request, "ctx", None)
    if ctx is None or not request.path.startswith("/dashboard/"):
        return {}
    return {"ctx": ctx, "user_projects": projects_for(request.user)}
