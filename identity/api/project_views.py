"""/v3/projects and /v3/domains (`default` is seeded; it can be neither disabled nor deleted)."""
from django.conf import settings
from django.db.models import Q
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, Forbidden, NotFound

from identity.services import accounts
from ..models import Domain, Project
from identity.services.policy import check_owner, enforce
from .bodies import domain_body, project_body
from .common import (
    RESOURCE_NAME_MAX_LENGTH,
    IdentityView,
    bool_query,
    checked_bool,
    checked_domain_id,
    checked_name,
    checked_text,
    delete_or_conflict,
    duplicate_to_conflict,
    get_domain,
    get_project,
)

DESCRIPTION_MAX_LENGTH = 65535


def _project_changes(ref: dict, current_domain_id: str | None = None) -> dict:
    """The model fields a create/update body sets; unknown attributes are ignored."""
    changes = {}
    if "name" in ref:
        changes["name"] = checked_name(ref["name"], max_length=RESOURCE_NAME_MAX_LENGTH)
    if "description" in ref:
        changes["description"] = checked_text(ref["description"], "description", DESCRIPTION_MAX_LENGTH)
    if "enabled" in ref:
        changes["enabled"] = checked_bool(ref["enabled"], "enabled")
    if "domain_id" in ref:
        domain_id = checked_domain_id(ref["domain_id"])
        if domain_id is not None:
            changes["domain_id"] = domain_id
    domain_id = changes.get("domain_id", current_domain_id or settings.DEFAULT_DOMAIN_ID)
    if current_domain_id is not None and domain_id != current_domain_id:
        raise BadRequest("Invalid input for field 'domain_id': a project cannot move to another domain.")
    if current_domain_id is None and ref.get("parent_id") not in (None, domain_id):
        changes["parent"] = _parent(ref["parent_id"])
        if "domain_id" not in changes or ref.get("domain_id") is None:
            changes["domain_id"] = domain_id = changes["parent"].domain_id
    if ref.get("is_domain") not in (None, False):
        raise BadRequest("Projects acting as domains are not supported.")
    if "tags" in ref:
        changes["tags"] = _tags(ref["tags"])
    return changes


def _parent(parent_id) -> Project:
    if not isinstance(parent_id, str):
        raise BadRequest("Invalid input for field 'parent_id': expected a string.")
    parent = Project.objects.filter(pk=parent_id).first()
    if parent is None:
        raise BadRequest(f"Invalid input for field 'parent_id': could not find project {parent_id}.")
    return parent


def _tags(value) -> list[str]:
    try:
        return accounts.checked_tags(value)
    except accounts.InvalidTags as exc:
        raise BadRequest(str(exc)) from None


def _tag_filter(projects, params):
    """Keystone's ?tags= (all of), ?tags-any=, ?not-tags= (not all of), ?not-tags-any= (none of)."""
    def names(key):
        return [t for t in params[key].split(",") if t]

    if params.get("tags"):
        projects = projects.filter(tags__contains=names("tags"))
    if params.get("tags-any"):
        any_of = Q()
        for tag in names("tags-any"):
            any_of |= Q(tags__contains=[tag])
        projects = projects.filter(any_of)
    if params.get("not-tags"):
        projects = projects.exclude(tags__contains=names("not-tags"))
    if params.get("not-tags-any"):
        for tag in names("not-tags-any"):
            projects = projects.exclude(tags__contains=[tag])
    return projects


class ProjectListView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_projects")
        projects = Project.objects.all()
        params = request.query_params
        if "name" in params:
            projects = projects.filter(name=params["name"])
        if bool_query(params.get("enabled")) is not None:
            projects = projects.filter(enabled=bool_query(params["enabled"]))
        if "domain_id" in params:
            projects = projects.filter(domain_id=params["domain_id"])
        if "parent_id" in params:  # a project's children, or a domain's top-level projects
            parent_id = params["parent_id"]
            projects = projects.filter(Q(parent_id=parent_id) | Q(parent__isnull=True, domain_id=parent_id))
        projects = _tag_filter(projects, params)
        body = [project_body(p, self.v3_url()) for p in projects]
        return Response({"projects": body, "links": self.collection_links()})

    def post(self, request):
        enforce(self.ctx, "identity:create_project")
        ref = self.body_object("project")
        if "name" not in ref:
            raise BadRequest("Invalid input for field 'name': 'name' is a required property.")
        changes = _project_changes(ref)
        project = _hierarchy_checked(duplicate_to_conflict, accounts.create_project, **changes)
        return Response({"project": project_body(project, self.v3_url())}, status=201)


class ProjectDetailView(IdentityView):
    def _visible_project(self, project_id: str, action: str) -> Project:
        check_owner(self.ctx, project_id, "project")
        project = get_project(project_id)
        enforce(self.ctx, action, {"project_id": project.id})
        return project

    def get(self, request, project_id):
        project = self._visible_project(project_id, "identity:get_project")
        return Response({"project": project_body(project, self.v3_url())})

    def patch(self, request, project_id):
        enforce(self.ctx, "identity:update_project", {"project_id": project_id})
        project = get_project(project_id)
        ref = self.body_object("project")
        if ref.get("parent_id") not in (None, project.parent_id or project.domain_id):
            raise Forbidden("Update of `parent_id` is not allowed.")
        changes = _project_changes(ref, project.domain_id)
        project = duplicate_to_conflict(accounts.update_project, project, **changes)
        return Response({"project": project_body(project, self.v3_url())})

    def delete(self, request, project_id):
        enforce(self.ctx, "identity:delete_project", {"project_id": project_id})
        _hierarchy_checked(accounts.delete_project, get_project(project_id))
        return Response(status=204)


def _hierarchy_checked(func, *args, **kwargs):
    """Keystone's answers for a refused hierarchy: 403 (depth, not a leaf), 400 (other domain)."""
    try:
        return func(*args, **kwargs)
    except accounts.HierarchyError as exc:
        raise Forbidden(str(exc)) from None
    except accounts.IdentityError as exc:
        if isinstance(exc, accounts.Duplicate):
            raise
        raise BadRequest(str(exc)) from None


def _domain_changes(ref: dict) -> dict:
    changes = {}
    if "name" in ref:
        changes["name"] = checked_name(ref["name"], max_length=RESOURCE_NAME_MAX_LENGTH)
    if "description" in ref:
        changes["description"] = checked_text(ref["description"], "description", DESCRIPTION_MAX_LENGTH)
    if "enabled" in ref:
        changes["enabled"] = checked_bool(ref["enabled"], "enabled")
    if "tags" in ref:
        changes["tags"] = _tags(ref["tags"])
    return changes


class DomainListView(IdentityView):
    def get(self, request):
        enforce(self.ctx, "identity:list_domains")
        domains = Domain.objects.all()
        params = request.query_params
        if "name" in params:
            domains = domains.filter(name=params["name"])
        if bool_query(params.get("enabled")) is not None:
            domains = domains.filter(enabled=bool_query(params["enabled"]))
        return Response(
            {"domains": [domain_body(d, self.v3_url()) for d in domains], "links": self.collection_links()}
        )

    def post(self, request):
        enforce(self.ctx, "identity:create_domain")
        ref = self.body_object("domain")
        if "name" not in ref:
            raise BadRequest("Invalid input for field 'name': 'name' is a required property.")
        domain = duplicate_to_conflict(accounts.save_domain, Domain(), **_domain_changes(ref))
        return Response({"domain": domain_body(domain, self.v3_url())}, status=201)


class DomainDetailView(IdentityView):
    def get(self, request, domain_id):
        enforce(self.ctx, "identity:get_domain")
        return Response({"domain": domain_body(get_domain(domain_id), self.v3_url())})

    def patch(self, request, domain_id):
        enforce(self.ctx, "identity:update_domain")
        domain = get_domain(domain_id)
        changes = _domain_changes(self.body_object("domain"))
        if domain.id == settings.DEFAULT_DOMAIN_ID and changes.get("enabled") is False:
            raise Forbidden("The default domain cannot be disabled.")
        domain = duplicate_to_conflict(accounts.save_domain, domain, **changes)
        return Response({"domain": domain_body(domain, self.v3_url())})

    def delete(self, request, domain_id):
        """Keystone: only a disabled domain may be deleted (403 otherwise); its projects, users
        and groups go with it."""
        enforce(self.ctx, "identity:delete_domain")
        domain = get_domain(domain_id)
        if domain.id == settings.DEFAULT_DOMAIN_ID:
            raise Forbidden("The default domain cannot be deleted.")
        if domain.enabled:
            raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
        delete_or_conflict(domain, "domain", accounts.delete_domain)
        return Response(status=204)


class ProjectTagsView(IdentityView):
    """GET/PUT/DELETE /v3/projects/{p}/tags: the whole list (PUT replaces it)."""

    def get(self, request, project_id):
        check_owner(self.ctx, project_id, "project")
        project = get_project(project_id)
        enforce(self.ctx, "identity:get_project", {"project_id": project.id})
        return Response({"tags": project.tags, "links": self.collection_links()})

    def put(self, request, project_id):
        enforce(self.ctx, "identity:update_project", {"project_id": project_id})
        project = get_project(project_id)
        data = request.data
        if not isinstance(data, dict) or "tags" not in data:
            raise BadRequest("Invalid input for field 'tags': 'tags' is a required property.")
        project = accounts.update_project(project, tags=_tags(data["tags"]))
        return Response({"tags": project.tags, "links": self.collection_links()})

    def delete(self, request, project_id):
        enforce(self.ctx, "identity:update_project", {"project_id": project_id})
        accounts.update_project(get_project(project_id), tags=[])
        return Response(status=204)


class ProjectTagView(IdentityView):
    """GET/HEAD/PUT/DELETE /v3/projects/{p}/tags/{tag}."""

    def get(self, request, project_id, tag):
        check_owner(self.ctx, project_id, "project")
        project = get_project(project_id)
        enforce(self.ctx, "identity:get_project", {"project_id": project.id})
        if tag not in project.tags:
            raise NotFound(f"Could not find project tag: {tag}.")
        return Response(status=204)

    head = get

    def put(self, request, project_id, tag):
        enforce(self.ctx, "identity:update_project", {"project_id": project_id})
        project = get_project(project_id)
        tags = _tags(project.tags + [tag])
        accounts.update_project(project, tags=tags)
        response = Response(status=201)
        response["Location"] = f"{self.v3_url()}/projects/{project.id}/tags/{tag}"
        return response

    def delete(self, request, project_id, tag):
        enforce(self.ctx, "identity:update_project", {"project_id": project_id})
        project = get_project(project_id)
        if tag not in project.tags:
            raise NotFound(f"Could not find project tag: {tag}.")
        accounts.update_project(project, tags=[t for t in project.tags if t != tag])
        return Response(status=204)
