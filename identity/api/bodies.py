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
        "parent_id": project.domain_id,
        "is_domain": False,
        "tags": [],
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
    return body


def role_body(role, v3_url: str) -> dict:
    return {
        "id": role.id,
        "name": role.name,
        "description": role.description,
        "domain_id": None,
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
        user_ref.update(name=user.username, domain=dict(DOMAIN_REF))
        role_ref["name"] = role.name
        if project is not None:
            scope["project"].update(name=project.name, domain=dict(DOMAIN_REF))
    return {"role": role_ref, "user": user_ref, "scope": scope, "links": {"assignment": link}}
