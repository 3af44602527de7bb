"""`./manage.py project zipfile PROJECT USER`: the user's credentials as a zip (novarc with OS_*
and EC2_*, clouds.yaml, the aws CLI's config and credentials), their EC2 credential created if
missing; the aws CLI, given only the zip's files, reaches the cloud's EC2 API."""
import os
import stat
import subprocess
import zipfile
from io import StringIO

import pytest
import yaml
from django.core.management import call_command

from cloudproj.testing.clients import AWS_BIN
from identity.models import Ec2Credential

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_zipfile_holds_working_credentials(live_server, make_account, settings, tmp_path):
    settings.PUBLIC_ENDPOINT = live_server.url
    user, project, _token = make_account("zipproj", "member", username="zipper")
    Ec2Credential.objects.filter(user=user, project=project).delete()  # the seeds made one with the user
    target = tmp_path / "nova.zip"
    out = StringIO()
    call_command("project", "zipfile", "zipproj", "zipper", str(target), stdout=out)
    assert "new EC2 credentials created" in out.getvalue()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    credential = Ec2Credential.objects.get(user=user, project=project)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["README", "aws/config", "aws/credentials", "clouds.yaml", "novarc"]
        archive.extractall(folder)

    script = f'. "{folder / "novarc"}" && echo "$EC2_URL|$EC2_ACCESS_KEY|$EC2_SECRET_KEY|$OS_AUTH_URL|$OS_PROJECT_NAME"'
    sourced = subprocess.run(["bash", "-c", script], env={"PATH": os.environ["PATH"], "OS_PASSWORD": "x"},
                             capture_output=True, text=True, check=True)
    assert sourced.stdout.strip().split("|") == [
        f"{live_server.url}/ec2/", credential.access, credential.secret, f"{live_server.url}/identity/v3", "zipproj"]
    cloud = yaml.safe_load((folder / "clouds.yaml").read_text())["clouds"]["cloudproj"]
    assert cloud["auth"]["username"] == "zipper" and cloud["auth"]["project_name"] == "zipproj"

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(folder / "aws" / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(folder / "aws" / "credentials")}
    proc = subprocess.run([AWS_BIN, "ec2", "describe-regions"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"RegionName": "RegionOne"' in proc.stdout

    # a second zip reuses the credential
    out = StringIO()
    call_command("project", "zipfile", "zipproj", "zipper", str(tmp_path / "again.zip"), stdout=out)
    assert "created" not in out.getvalue()
    assert Ec2Credential.objects.filter(user=user, project=project).count() == 1
