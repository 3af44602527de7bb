"""Fixtures of the volume tests: a volume host agent (a real `./manage.py agent` process on
the Redis broker, libvirt's test driver, the file volume driver) for the API and CLI tests."""
import pytest

from cloudproj.testing.cloud import Cloud

VOLUME_HOST = "vol-host"


@pytest.fixture
def demo(member_account):
    """The member's project ("demo")."""
    return member_account[1]


@pytest.fixture
def admin_project(admin_account):
    return admin_account[1]


@pytest.fixture
def volume_cloud(broker_url, settings, tmp_path, admin_account):
    """One agent `vol-host` with the file driver (50 GB of capacity, wipes the first MB)."""
    from volumes.models import VolumeHost

    cloud = Cloud(tmp_path, broker_url)
    try:
        cloud.start_agent(VOLUME_HOST, VOLUME_DRIVER="file", VOLUME_FILE_CAPACITY_GB=50, VOLUME_CLEAR_SIZE_MB=1)
        cloud.wait_up([VOLUME_HOST])
        cloud.wait(lambda: VolumeHost.objects.filter(host=VOLUME_HOST).exists(), 30, "the volume host's report")
        cloud.volumes_path = cloud.state_path(VOLUME_HOST) / "volumes"
        yield cloud
    finally:
        cloud.stop()
