"""Client configuration files for a user in a project: an openrc script and a clouds.yaml.
Neither holds a password: the openrc asks for it when sourced (as Horizon's does) and
clouds.yaml leaves it for the client to prompt for or for secure.yaml."""
import shlex

import yaml
from django.conf import settings

CLOUD_NAME = "cloudproj"


def auth_url(base: str) -> str:
    """The Identity v3 URL under the cloud's public base URL (identity.services.catalog.base_url)."""
    return f"{base.rstrip('/')}/identity/v3"


def openrc(user, project, base: str) -> str:
    q = shlex.quote
    return "\n".join([
        "#!/usr/bin/env bash",
        f"# OpenStack credentials of user {user.username} in project {project.name} (cloudproj).",
        "# Source it:  . ./openrc   It asks for your password and keeps it only in this shell.",
        f"export OS_AUTH_URL={q(auth_url(base))}",
        "export OS_IDENTITY_API_VERSION=3",
        f"export OS_USERNAME={q(user.username)}",
        f"export OS_USER_DOMAIN_NAME={q(settings.DEFAULT_DOMAIN_NAME)}",
        f"export OS_PROJECT_ID={q(project.id)}",
        f"export OS_PROJECT_NAME={q(project.name)}",
        f"export OS_PROJECT_DOMAIN_NAME={q(settings.DEFAULT_DOMAIN_NAME)}",
        f"export OS_REGION_NAME={q(settings.CLOUD_REGION)}",
        "export OS_INTERFACE=public",
        'echo "Please enter your OpenStack password for project $OS_PROJECT_NAME as user $OS_USERNAME: "',
        "read -sr OS_PASSWORD_INPUT",
        'export OS_PASSWORD="$OS_PASSWORD_INPUT"',
        "unset OS_PASSWORD_INPUT",
    ]) + "\n"


def clouds_yaml(user, project, base: str) -> str:
    cloud = {
        "auth": {
            "auth_url": auth_url(base),
            "username": user.username,
            "project_id": project.id,
            "project_name": project.name,
            "user_domain_name": settings.DEFAULT_DOMAIN_NAME,
            "project_domain_name": settings.DEFAULT_DOMAIN_NAME,
        },
        "region_name": settings.CLOUD_REGION,
        "interface": "public",
        "identity_api_version": 3,
    }
    return yaml.safe_dump({"clouds": {CLOUD_NAME: cloud}}, sort_keys=False)
