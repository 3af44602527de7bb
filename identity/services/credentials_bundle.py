"""The seeds' credentials bundle (nova-manage's `project zipfile`, nova.zip), today's way:
novarc (OS_* for the openstack client, EC2_* for EC2 clients), clouds.yaml and the aws CLI's
config and credentials files. Written by `./manage.py project zipfile` and downloaded from the
dashboard's API access page."""
import io
import shlex
import zipfile

from django.conf import settings

from identity.services import client_config


def ec2_url(base: str) -> str:
    """The EC2 Query API's URL (`aws --endpoint-url`, boto3's endpoint_url, euca2ools' EC2_URL)."""
    return f"{base.rstrip('/')}/ec2/"


def render_rc(project, user, credential, base: str) -> str:
    """An openrc-style script. The password is never stored in clear, so it is read at source time."""
    q = shlex.quote
    lines = [
        f"# Credentials of user {user.username} in project {project.name} (cloudproj).",
        "# Source it with:  . ./novarc   The cloud does not store passwords in clear:",
        "# set OS_PASSWORD in your environment (or export it here) before sourcing this file.",
        f"export OS_AUTH_URL={q(client_config.auth_url(base))}",
        "export OS_IDENTITY_API_VERSION=3",
        f"export OS_USERNAME={q(user.username)}",
        f"export OS_USER_DOMAIN_NAME={q(settings.DEFAULT_DOMAIN_NAME)}",
        f"export OS_PROJECT_NAME={q(project.name)}",
        f"export OS_PROJECT_ID={q(project.id)}",
        f"export OS_PROJECT_DOMAIN_NAME={q(settings.DEFAULT_DOMAIN_NAME)}",
        f"export OS_REGION_NAME={q(settings.CLOUD_REGION)}",
        "export OS_INTERFACE=public",
        'export OS_PASSWORD="${OS_PASSWORD:?set OS_PASSWORD to your cloud password first}"',
    ]
    if credential is not None:
        lines += [
            f"export EC2_URL={q(ec2_url(base))}",
            f"export EC2_ACCESS_KEY={q(credential.access)}",
            f"export EC2_SECRET_KEY={q(credential.secret)}",
        ]
    return "\n".join(lines) + "\n"


def aws_files(credential, base: str) -> dict[str, str]:
    """The aws CLI's config and credentials files (profile `default`) for the EC2 API."""
    config = f"[default]\nregion = {settings.CLOUD_REGION}\nendpoint_url = {ec2_url(base)}\noutput = json\n"
    credentials = (f"[default]\naws_access_key_id = {credential.access}\n"
                   f"aws_secret_access_key = {credential.secret}\n")
    return {"aws/config": config, "aws/credentials": credentials}


def render_zip(project, user, credential, base: str) -> bytes:
    """nova.zip: novarc, clouds.yaml, the aws CLI's files and a README; every member mode 0600."""
    readme = (f"Credentials of {user.username} in project {project.name} (cloudproj).\n"
              "  . ./novarc                      OS_* for the openstack client, EC2_* for EC2 clients\n"
              "  clouds.yaml                     OS_CLIENT_CONFIG_FILE=$PWD/clouds.yaml OS_CLOUD=cloudproj\n"
              "  aws/config, aws/credentials     AWS_CONFIG_FILE=$PWD/aws/config "
              "AWS_SHARED_CREDENTIALS_FILE=$PWD/aws/credentials aws ec2 describe-instances\n")
    files = {"novarc": render_rc(project, user, credential, base),
             "clouds.yaml": client_config.clouds_yaml(user, project, base),
             **aws_files(credential, base), "README": readme}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o600 << 16  # the secret key: its owner only
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()
