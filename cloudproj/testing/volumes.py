"""A volume host with the file driver under tmp_path, registered the way its agent would
register it: the `volume_host_a` fixture."""
import pytest

VOLUME_HOST_A = "vol-a"


def url(project, path=""):
    return f"/volume/v3/{project.id}/{path}"


def create(client, project, **fields):
    """POST a 1 GB volume (202) -> its body."""
    resp = client.post(url(project, "volumes"), {"volume": {"size": 1, **fields}}, format="json")
    assert resp.status_code == 202, resp.content
    return resp.json()["volume"]


def register(host: str, settings):
    """nova-compute + nova-volume services of `host` and its VolumeHost capacity report."""
    from compute.services import hosts
    from volumes.services import host as volume_host

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
