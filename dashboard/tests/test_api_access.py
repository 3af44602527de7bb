"""API access panel: endpoints, openrc and clouds.yaml without a password, EC2 credentials."""
import subprocess

import yaml

from identity.models import Ec2Credential


def test_endpoints_and_files_use_public_endpoint(member, settings):
    settings.PUBLIC_ENDPOINT = "https://cloud.example.test:8443/"
    client = member["client"]
    page = client.get("/dashboard/api-access/").content.decode()
    project = member["project"]
    assert "https://cloud.example.test:8443/identity/v3" in page
    assert f"https://cloud.example.test:8443/volume/v3/{project.id}" in page
    assert "https://cloud.example.test:8443/compute/v2.1" in page

    clouds = client.get("/dashboard/api-access/clouds.yaml")
    assert clouds["Content-Disposition"] == 'attachment; filename="clouds.yaml"'
    cloud = yaml.safe_load(clouds.content)["clouds"]["cloudproj"]
    assert cloud["auth"] == {
        "auth_url": "https://cloud.example.test:8443/identity/v3", "username": "demo-user",
        "project_id": project.id, "project_name": "demo", "user_domain_name": settings.DEFAULT_DOMAIN_NAME,
        "project_domain_name": settings.DEFAULT_DOMAIN_NAME}
    assert "password" not in clouds.content.decode()


def test_openrc_asks_for_the_password_when_sourced(member, tmp_path):
    response = member["client"].get("/dashboard/api-access/openrc/")
    assert response["Content-Disposition"] == 'attachment; filename="demo-openrc.sh"'
    text = response.content.decode()
    assert "secret-pass" not in text and "http://testserver/identity/v3" in text  # from the request
    script = tmp_path / "openrc"
    script.write_text(text)
    # source it as a user would, typing the password on stdin
    result = subprocess.run(["bash", "-c", f". {script} >/dev/null; echo \"$OS_AUTH_URL|$OS_USERNAME|"
                             "$OS_PROJECT_NAME|$OS_PASSWORD\""], input="typed-secret\n", capture_output=True,
                            text=True, timeout=30, check=True)
    assert result.stdout.strip() == "http://testserver/identity/v3|demo-user|demo|typed-secret"


def test_ec2_credentials_create_show_delete(member):
    client = member["client"]
    existing = set(Ec2Credential.objects.values_list("access", flat=True))  # the one made with the user
    response = client.post("/dashboard/api-access/ec2/create/")
    credential = Ec2Credential.objects.exclude(access__in=existing).get(user=member["user"], project=member["project"])
    assert response["Location"] == f"/dashboard/api-access/ec2/{credential.access}/"
    shown = client.get(response["Location"])
    assert shown["Cache-Control"] == "no-store"
    assert credential.secret in shown.content.decode() and credential.access in shown.content.decode()
    page = client.get("/dashboard/api-access/").content.decode()
    assert f'id="ec2-{credential.access}"' in page and credential.secret not in page
    assert client.post(f"/dashboard/api-access/ec2/{credential.access}/delete/").status_code == 302
    assert set(Ec2Credential.objects.values_list("access", flat=True)) == existing
    assert client.get(f"/dashboard/api-access/ec2/{credential.access}/").status_code == 404


def test_another_users_credentials_are_404(member, other):
    theirs = Ec2Credential.objects.filter(user=other["user"]).first()
    client = member["client"]
    assert theirs.access not in client.get("/dashboard/api-access/").content.decode()
    assert client.get(f"/dashboard/api-access/ec2/{theirs.access}/").status_code == 404
    assert client.post(f"/dashboard/api-access/ec2/{theirs.access}/delete/").status_code == 404
    assert Ec2Credential.objects.filter(pk=theirs.pk).exists()
    assert client.get("/dashboard/api-access/ec2/create/").status_code == 405


def test_api_access_queries_do_not_grow(member, django_assert_max_num_queries):
    # +4 over main: the user's settings (page size, time zone) and each table's COUNT (issue 20)
    client = member["client"]
    client.post("/dashboard/api-access/ec2/create/")
    with django_assert_max_num_queries(16) as few:
        client.get("/dashboard/api-access/")
    few = len(few.captured_queries)  # read now: each request clears Django's query log
    for _ in range(20):
        client.post("/dashboard/api-access/ec2/create/")
    with django_assert_max_num_queries(few):
        assert client.get("/dashboard/api-access/").content.decode().count('<tr id="ec2-') == 22  # with the user's first


def test_credentials_bundle_download(member, tmp_path):
    """The seeds' nova.zip from the dashboard: novarc with the user's EC2 keys (made when the user
    has none here), clouds.yaml and the aws CLI's files; a GET does nothing (it may create keys)."""
    import io
    import zipfile

    client = member["client"]
    Ec2Credential.objects.filter(user=member["user"], project=member["project"]).delete()
    assert 'id="download-credentials-zip"' in client.get("/dashboard/api-access/").content.decode()
    assert client.get("/dashboard/api-access/nova.zip").status_code == 405
    assert not Ec2Credential.objects.filter(user=member["user"], project=member["project"]).exists()

    response = client.post("/dashboard/api-access/nova.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="demo-nova.zip"'
    assert response["Cache-Control"] == "no-store"
    credential = Ec2Credential.objects.get(user=member["user"], project=member["project"])
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == ["README", "aws/config", "aws/credentials", "clouds.yaml", "novarc"]
        assert all((info.external_attr >> 16) & 0o777 == 0o600 for info in archive.infolist())
        archive.extractall(tmp_path)
    script = f'. "{tmp_path / "novarc"}" && echo "$EC2_URL|$EC2_ACCESS_KEY|$EC2_SECRET_KEY|$OS_PROJECT_NAME"'
    sourced = subprocess.run(["bash", "-c", script], env={"PATH": "/usr/bin:/bin", "OS_PASSWORD": "x"},
                             capture_output=True, text=True, check=True, timeout=30)
    assert sourced.stdout.strip().split("|") == [
        "http://testserver/ec2/", credential.access, credential.secret, "demo"]
    assert f"aws_secret_access_key = {credential.secret}" in (tmp_path / "aws" / "credentials").read_text()
    assert "endpoint_url = http://testserver/ec2/" in (tmp_path / "aws" / "config").read_text()

    # a second download reuses the credential
    client.post("/dashboard/api-access/nova.zip")
    assert Ec2Credential.objects.filter(user=member["user"], project=member["project"]).count() == 1
