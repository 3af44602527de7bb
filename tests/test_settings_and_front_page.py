"""The project's own plumbing: settings from the environment, request ids, the front page."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "from cloudproj.celery import app; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']), "
    "'broker': app.conf.broker_url, 'host': s.CLOUD_HOST, 'state': str(s.STATE_PATH), 'libvirt': s.LIBVIRT_URI}))"
)


def settings_with(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CLOUD_HOST")}
    env.update(DJANGO_SETTINGS_MODULE="cloudproj.settings", CLOUD_DIR=str(tmp_path), **overrides)
    out = subprocess.run([sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_defaults_need_no_server(tmp_path):
    conf = settings_with(tmp_path)
    assert conf["db"].endswith("sqlite3")
    assert conf["name"].startswith(str(tmp_path / "state"))
    assert conf["broker"].startswith("filesystem://")
    assert (tmp_path / "state" / "broker" / "queue").is_dir()


def test_environment_selects_postgresql_and_a_real_broker(tmp_path):
    conf = settings_with(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/x",
        CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//",
        CLOUD_HOST="node-7",
        LIBVIRT_URI="test:///default",
        STATE_PATH=str(tmp_path / "elsewhere"),
    )
    assert conf["db"].endswith("postgresql") and conf["name"] == "x"
    assert conf["broker"].startswith("amqp://")
    assert conf["host"] == "node-7" and conf["libvirt"] == "test:///default"
    assert conf["state"] == str(tmp_path / "elsewhere")


def test_front_page_lists_the_endpoints_and_every_response_has_a_request_id(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"/identity/v3" in response.content and b"/compute/v2.1" in response.content
    assert response["x-openstack-request-id"].startswith("req-")


def test_unknown_api_path_is_a_404_in_the_openstack_envelope(client):
    response = client.get("/compute/v2.1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["itemNotFound"]["code"] == 404


def test_openapi_schema_is_public_and_lists_the_apis(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert any(p.startswith("/compute/v2.1/flavors") or "flavors" in p for p in paths)
    assert any("auth/tokens" in p for p in paths)


def test_a_cloud_name_that_cannot_name_chains_is_refused(tmp_path):
    """CLOUD_NAME goes into iptables chain names (28 characters at most, `<name>-metadata`)."""
    for bad in ("Cloud", "a-b", "1cloud", "x" * 16, "a b", "a;b"):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
        env.update(DJANGO_SETTINGS_MODULE="cloudproj.settings", CLOUD_DIR=str(tmp_path), CLOUD_NAME=bad)
        out = subprocess.run([sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True)
        assert out.returncode != 0 and "CLOUD_NAME must be" in out.stderr, bad
    assert settings_with(tmp_path, CLOUD_NAME="x" * 15)["host"]


def test_the_test_suite_is_a_cloud_of_its_own():
    """`make test` beside `make run` (CLOUD_NAME cloudproj): the tests' chains are named otherwise."""
    from django.conf import settings

    from cloudproj.host import cloud
    from metadata.linux import iptables

    assert settings.CLOUD_NAME != cloud.DEFAULT_CLOUD_NAME and os.environ["CLOUD_NAME"] == settings.CLOUD_NAME
    assert iptables.chain() == f"{settings.CLOUD_NAME}-metadata" != "cloudproj-metadata"
    assert cloud.host_digest("node-1") != cloud.host_digest("node-2")
