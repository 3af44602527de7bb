"""Reconciliation with a real guest (libvirt/QEMU TCG, the project's test image, a bridge and
dnsmasq of its own), real scheduler and agent processes, Redis and the real `openstack` client.
The periodic passes are started as beat starts them: `compute.fan_out_host_task` on the
`scheduler` queue, which sends the host task to the agent's queue.

- `virsh destroy` of the guest (stopped outside the cloud): the server shows SHUTOFF, with a
  `stop` action in its event list; `server start` brings it back.
- the server's row deleted behind the host's back (as a delete does while the host is down):
  the domain and its disk are reaped (RUNNING_DELETED_ACTION=reap)."""
import subprocess
import time

import pytest
from django.utils import timezone

from cloudproj.celery import app
from cloudproj.testing.cloud import Cloud
from cloudproj.testing.real_guest import real_guest_cloud
from compute.models import Instance
from compute.services import instances as instance_service

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "recon-qemu-1"
BRIDGE = "cptrec1"
CIDR = "10.250.1.0/24"
INSTANCE_ID_START = 0x250000


def virsh(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["virsh", "-c", "qemu:///system", *args], capture_output=True, text=True, timeout=60)


def fan_out(kind: str) -> None:
    app.send_task("compute.fan_out_host_task", args=[kind], queue="scheduler")


def until(cloud: Cloud, predicate, timeout: float, what: str, kind: str):
    """Fan `kind` out again every few seconds until `predicate` holds (a pass may run before
    the change it must see, as a beat tick would)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fan_out(kind)
        try:
            return cloud.wait(predicate, 8, what)
        except AssertionError:
            continue
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{cloud.logs()}")


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, osc):
    with real_guest_cloud(settings, tmp_path, osc, label="recnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=INSTANCE_ID_START,
                          agent_env={"RUNNING_DELETED_ACTION": "reap"}) as env:
        yield env.cloud


def test_guest_stopped_outside_shows_shutoff_and_a_deleted_ones_domain_is_reaped(real_cloud, osc):
    cloud = real_cloud
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", "vm1")
    assert server["status"] == "ACTIVE", cloud.logs()
    uuid = server["id"]
    assert "running" in virsh("domstate", uuid).stdout

    assert virsh("destroy", uuid).returncode == 0
    until(cloud, lambda: osc("server", "show", "vm1")["status"] == "SHUTOFF", 120,
          "the server to show SHUTOFF", "sync_power_states")
    shown = osc("server", "show", "vm1")
    assert shown["OS-EXT-STS:power_state"] in ("Shutdown", 4)
    events = osc("server", "event", "list", "vm1")
    assert "stop" in [row["Action"] for row in events]

    osc("server", "start", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 120, "the server to start again")
    assert "running" in virsh("domstate", uuid).stdout

    instance = Instance.objects.get(uuid=uuid)
    disk_dir = cloud.state_path(HOST) / "instances" / instance.name
    assert disk_dir.is_dir()
    instance_service.soft_delete(instance)  # deleted while the host was not told
    assert Instance.all_objects.get(uuid=uuid).deleted_at <= timezone.now()
    until(cloud, lambda: virsh("domstate", uuid).returncode != 0, 120, "the domain to be reaped", "running_deleted")
    assert not disk_dir.exists()
    assert osc("server", "list") == []
