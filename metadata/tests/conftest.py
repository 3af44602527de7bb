"""Fixtures of the metadata tests: throwaway bridges (and namespaces) and our rules of them."""
import secrets

import pytest

from cloudproj.testing.host_network import sh
from metadata.linux import iptables


@pytest.fixture
def bridges():
    """make(gateway_cidr=None) -> a new bridge name; bridges, namespaces and our rules of them
    are removed afterwards."""
    made, namespaces = [], []

    def make(gateway_cidr=None):
        name = f"cptmdt{secrets.token_hex(3)}"
        sh("ip", "link", "add", name, "type", "bridge")
        made.append(name)
        sh("ip", "link", "set", name, "up")
        if gateway_cidr:
            sh("ip", "addr", "add", gateway_cidr, "dev", name)
        return name

    make.namespaces = namespaces
    yield make
    for ns in namespaces:
        sh("ip", "netns", "del", ns, check=False)
    iptables.remove(made)
    for name in made:
        sh("ip", "link", "del", name, check=False)
