"""Fixtures of the network tests: private state dirs, unique `cpt` bridge names, cleanup."""
import os
import shutil
import subprocess
import tempfile

import pytest

from cloudproj.testing.host_network import unique


@pytest.fixture
def networks_path(settings):
    """NETWORKS_PATH in a world-traversable temp dir (dnsmasq re-reads files after dropping root)."""
    path = tempfile.mkdtemp(prefix="cpt-networks-", dir="/tmp")
    os.chmod(path, 0o755)
    settings.NETWORKS_PATH = path
    yield path
    from network.linux import dnsmasq

    for name in os.listdir(path):
        if name.isdigit():
            try:
                dnsmasq.stop(int(name))
            except Exception:  # noqa: BLE001 - cleanup goes on; the folder is removed below
                pass
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def test_bridge_settings(settings):
    """The default network of these tests lives on a cpt bridge in a private test range."""
    settings.FLAT_NETWORK_BRIDGE = unique("d")
    settings.FLAT_INTERFACE = ""
    settings.FIXED_RANGE = "10.200.250.0/24"
    return settings


@pytest.fixture
def host_links():
    """Names of links / namespaces created by a test; removed afterwards even on failure."""
    created = {"links": [], "netns": []}
    yield created
    for ns in created["netns"]:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    for link in created["links"]:
        subprocess.run(["ip", "link", "del", "dev", link], capture_output=True)
