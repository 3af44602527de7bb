"""A volume host with the file driver under tmp_path, registered the way its agent would
register it: the `volume_host_a` fixture."""
import pytest

from compute.services import hosts
from volumes.services import host as volume_host

VOLUME_HOST_A = "vol-a"


def url(project, path=""):
    return f"/volume/v3/{project.id}/{path}"


def create(client, project, **fields):
    """POST a 1 GB volume (202) -> its body."""
    resp = client.post(url(project, "volumes"), {"volume": {"size": 1, **fields}}, format="json")
    assert resp.status_code == 202, resp.content
    return resp.json()["volume"]


def available(client, project, **fields) -> str:
    """POST a 1 GB volume and make it on its host as the agent would -> its id (available)."""
    from volumes.models import Volume

    body = create(client, project, **fields)
    assert volume_host.create_volume(Volume.objects.get(uuid=body["id"]).id) == "available"
    return body["id"]


def register(host: str, settings):
    """nova-compute + nova-volume services of `host` and its VolumeHost capacity report."""
    for binary in ("nova-compute", "nova-volume"):
        hosts.register_service(host, binary)
    return volume_host.report_capacity(host)


@pytest.fixture
def volume_host_a(settings, tmp_path):
    settings.VOLUME_DRIVER = "file"
    settings.VOLUMES_PATH = tmp_path / "volumes"
    settings.VOLUME_FILE_CAPACITY_GB = 10
    settings.VOLUME_CLEAR_SIZE_MB = 1
    return register(VOLUME_HOST_A, settings)
