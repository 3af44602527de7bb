"""Fixtures of the cross-app tests."""
import pytest


@pytest.fixture
def state_paths(settings, tmp_path):
    """Image store, instances, state and dnsmasq files under this test's tmp_path."""
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.STATE_PATH = tmp_path / "state"
    settings.NETWORKS_PATH = tmp_path / "networks"
    return tmp_path
