"""Fixtures of the fault tests: a cloud of real processes (scheduler, agents on libvirt's
test driver) with fault injection, and a project with a real network and its dnsmasq.
Boots and the leak checks are in cloudproj/testing/pipeline.py."""
import subprocess

import pytest

from cloudproj.testing.cloud import Cloud
from cloudproj.testing.pipeline import FAULTS_BRIDGE as BRIDGE
from cloudproj.testing.pipeline import make_world
from cloudproj.testing.real_guest import own_instance_ids

CIDR = "10.251.0.0/24"
FIRST_INSTANCE_ID = 0x251000


@pytest.fixture
def cloud(broker_url, settings, tmp_path):
    own_instance_ids(FIRST_INSTANCE_ID)
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.SERVICE_DOWN_TIME = 10
    markers = tmp_path / "faults"
    markers.mkdir()
    # A killed worker's message comes back after the visibility timeout (kombu looks about
    # every 100 s); it must stay longer than the longest task, or a slow step under the 200-boot load
    # is handed to a second worker while the first still runs it (README: BROKER_VISIBILITY_TIMEOUT).
    cloud = Cloud(tmp_path, broker_url, FAULT_INJECT_DIR=markers, BROKER_VISIBILITY_TIMEOUT=60)
    cloud.markers = markers
    yield cloud
    cloud.stop()
    subprocess.run(["pkill", "-f", f"dnsmasq.*{BRIDGE}"], check=False)
    subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)


@pytest.fixture
def world(tmp_path, db):
    return make_world(tmp_path, "flt", CIDR, BRIDGE, {"instances": 250, "cores": 250, "ram": 250 * 512})
