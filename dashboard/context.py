"""The dashboard's request context: the same `identity.services.context.RequestContext` a token gives
the API, built from the Django session (user) and the project chosen in the switcher, so
`identity.services.policy.enforce` applies exactly the API's rules."""
from cloudproj.middleware import current_request_id
from identity.services import accounts as identity_services
from identity.services.context import RequestContext, effective_roles
from identity.models import Project, RoleAssignment

SESSION_PROJECT = "dashboard_project_id"


def projects_for(user) -> list[Project]:
    return list(identity_services.projects_of_user(user))


def has_any_role(user) -> bool:
    return RoleAssignment.objects.filter(user=user).exists()


def choose_project(user, wanted_id: str | None = None) -> Project | None:
    """`wanted_id` if the user holds a role there, else the default project, else the first."""
    projects = {p.id: p for p in projects_for(user)}
    for candidate in (wanted_id, getattr(user, "default_project_id", None)):
        if candidate in projects:
            return projects[candidate]
    return next(iter(sorted(projects.values(), key=lambda p: p.name)), None)


def context_for(request) -> RequestContext:
    user = request.user
    project_id = request.session.get(SESSION_PROJECT)
    project = None
    if project_id:
        # still enabled and still one of the user's (a role may have been revoked since login)
        project = identity_services.projects_of_user(user).filter(id=project_id).first()
    if project is None:
        project = choose_project(user)
        request.session[SESSION_PROJECT] = project.id if project else None
    return RequestContext(
        user=user, project=project, roles=effective_roles(user, project), request_id=current_request_id.get()
    )
