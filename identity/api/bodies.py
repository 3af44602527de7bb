"""How identity resources look on the wire (Keystone v3 shapes)."""
from django.conf import settings

DOMAIN_REF = {"id": settings.DEFAULT_DOMAIN_ID, "name": settings.DEFAULT_DOMAIN_NAME}


def domain_ref(domain_id: str) -> dict:
    """`{"id", "name"}` of a domain (as tokens and role assignments show it)."""
    from identity.models import Domain

    if domain_id == settings.DEFAULT_DOMAIN_ID:
        return dict(DOMAIN_REF)
    domain = Domain.objects.filter(pk=domain_id).first()
    return {"id": domain_id, "name": domain.name if domain is not None else domain_id}


def domain_body(domain, v3_url: str) -> dict:
    return {
        "id": domain.id,
        "name": domain.name,
        "description": domain.description,
        "enabled": domain.enabled,
        "tags": [],
        "options": {},
        "links": {"self": f"{v3_url}/domains/{domain.id}"},
    }


def project_body(project, v3_url: str) -> dict:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "enabled": project.enabled,
        "domain_id": project.domain_id,
        "parent_id": project.parent_id or project.domain_id,
        "is_domain": False,
        "tags": list(project.tags),
        "options": {},
        "links": {"self": f"{v3_url}/projects/{project.id}"},
    }


def user_body(user, v3_url: str) -> dict:
    body = {
        "id": user.id,
        "name": user.username,
        "domain_id": user.domain_id,
        "enabled": user.is_active,
        "default_project_id": user.default_project_id,
        "password_expires_at": None,
        "options": {},
        "links": {"self": f"{v3_url}/users/{user.id}"},
    }
    if user.email:
        body["email"] = user.email
    if user.description:
        body["description"] = user.description
    return {**(user.extra or {}), **body}


def role_body(role, v3_url: str) -> dict:
    return {
        "id": role.id,
        "name": role.name,
        "description": role.description,
        "domain_id": role.domain_id,
        "options": {},
        "links": {"self": f"{v3_url}/roles/{role.id}"},
    }


def ec2_credential_body(credential, v3_url: str) -> dict:
    return {
        "user_id": credential.user_id,
        "tenant_id": credential.project_id,
        "access": credential.access,
        "secret": credential.secret,
        "trust_id": None,
        "links": {"self": f"{v3_url}/users/{credential.user_id}/credentials/OS-EC2/{credential.access}"},
    }


def role_assignment_body(assignment, v3_url: str, include_names: bool) -> dict:
    """One entry of GET /v3/role_assignments. A global role (project NULL) is shown with
    Keystone's system scope `{"system": {"all": true}}`."""
    user, role, project = assignment.user, assignment.role, assignment.project
    user_ref = {"id": user.id}
    role_ref = {"id": role.id}
    if project is not None:
        scope = {"project": {"id": project.id}}
        link = f"{v3_url}/projects/{project.id}/users/{user.id}/roles/{role.id}"
    else:
        scope = {"system": {"all": True}}
        link = f"{v3_url}/system/users/{user.id}/roles/{role.id}"
    if include_names:
        user_ref.update(name=user.username, domain=domain_ref(user.domain_id))
        role_ref["name"] = role.name
        if project is not None:
            scope["project"].update(name=project.name, domain=domain_ref(project.domain_id))
    return {"role": role_ref, "user": user_ref, "scope": scope, "links": {"assignment": link}}


def group_body(group, v3_url: str) -> dict:
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "domain_id": group.domain_id,
        "links": {"self": f"{v3_url}/groups/{group.id}"},
    }


def group_role_assignment_body(assignment, v3_url: str, include_names: bool, member=None) -> dict:
    """A group's role on a project or domain; with `member` (?effective), that user's share."""
    group, role, project = assignment.group, assignment.role, assignment.project
    role_ref = {"id": role.id}
    if project is not None:
        scope = {"project": {"id": project.id}}
        link = f"{v3_url}/projects/{project.id}/groups/{group.id}/roles/{role.id}"
    elif not assignment.domain_id:
        scope = {"system": {"all": True}}
        link = f"{v3_url}/system/groups/{group.id}/roles/{role.id}"
    else:
        scope = {"domain": {"id": assignment.domain_id}}
        link = f"{v3_url}/domains/{assignment.domain_id}/groups/{group.id}/roles/{role.id}"
    links = {"assignment": link}
    if member is not None:
        actor_key, actor = "user", {"id": member.id}
        links["membership"] = f"{v3_url}/groups/{group.id}/users/{member.id}"
    else:
        actor_key, actor = "group", {"id": group.id}
    if include_names:
        role_ref["name"] = role.name
        if member is not None:
            actor.update(name=member.username, domain=domain_ref(member.domain_id))
        else:
            actor.update(name=group.name, domain=domain_ref(group.domain_id))
        if project is not None:
            scope["project"].update(name=project.name, domain=domain_ref(project.domain_id))
        elif "domain" in scope:
            scope["domain"]["name"] = domain_ref(assignment.domain_id)["name"]
    return {"role": role_ref, actor_key: actor, "scope": scope, "links": links}


def region_body(region, v3_url: str) -> dict:
    return {
        "id": region.id,
        "description": region.description,
        "parent_region_id": region.parent_region_id,
        "links": {"self": f"{v3_url}/regions/{region.id}"},
    }


def service_body(service, v3_url: str) -> dict:
    body = {
        "id": service.id,
        "type": service.type,
        "name": service.name,
        "enabled": service.enabled,
        "links": {"self": f"{v3_url}/services/{service.id}"},
    }
    if service.description:
        body["description"] = service.description
    return body


def endpoint_body(endpoint, v3_url: str, base_url: str) -> dict:
    """Relative (seeded) urls are shown under the cloud's base URL."""
    from identity.services.catalog import endpoint_url

    return {
        "id": endpoint.id,
        "interface": endpoint.interface,
        "region": endpoint.region_id,
        "region_id": endpoint.region_id,
        "service_id": endpoint.service_id,
        "url": endpoint_url(base_url, endpoint.url),
        "enabled": endpoint.enabled,
        "links": {"self": f"{v3_url}/endpoints/{endpoint.id}"},
    }


def domain_role_assignment_body(assignment, v3_url: str, include_names: bool) -> dict:
    user, role, domain = assignment.user, assignment.role, assignment.domain
    body = {
        "role": {"id": role.id},
        "user": {"id": user.id},
        "scope": {"domain": {"id": domain.id}},
        "links": {"assignment": f"{v3_url}/domains/{domain.id}/users/{user.id}/roles/{role.id}"},
    }
    if include_names:
        body["role"]["name"] = role.name
        body["user"].update(name=user.username, domain=domain_ref(user.domain_id))
        body["scope"]["domain"]["name"] = domain.name
    return body
