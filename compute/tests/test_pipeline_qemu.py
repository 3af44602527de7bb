"""End to end with a real guest: the real `openstack` client against the API, the scheduler
worker and a host agent on libvirt/QEMU (TCG), the project's test image, a real bridge and
dnsmasq. Checks what a user and an operator would see: states, the address and its lease,
the guest's own console markers, HTTP answers from the guest, and a clean delete.
"""
import ipaddress
import json
import os
from pathlib import Path

import pytest

from cloudproj.testing.real_guest import http, real_guest_cloud
from images.testimage import builder
from network.models import FixedIP

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "qemu-host"
BRIDGE = "cpte2e0"
CIDR = "10.232.0.0/24"
BOOT_TIMEOUT = 150


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, osc):
    with real_guest_cloud(settings, tmp_path, osc, label="e2enet", cidr=CIDR, bridge=BRIDGE, host=HOST) as env:
        yield {"cloud": env.cloud, "image": env.images["root"], "network": env.network}


def _qemu_pid(name: str) -> str:
    path = Path("/run/libvirt/qemu") / f"{name}.pid"
    return path.read_text().strip() if path.exists() else ""


def test_boot_the_test_image_through_the_real_client(real_cloud, osc, admin_account):
    cloud, network = real_cloud["cloud"], real_cloud["network"]
    # the default security group refuses the host's HTTP (secgroups/tests/test_pipeline_qemu.py): open port 80
    from secgroups.services import groups as secgroup_groups
    from secgroups.services import rules as secgroup_rules

    secgroup_rules.create_rule(secgroup_groups.ensure_default(admin_account[1].id), ip_protocol="tcp",
                               from_port=80, to_port=80, cidr="0.0.0.0/0")
    osc("keypair", "create", "k", raw=True)  # prints the private key once
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--key-name", "k",
                 "--wait", "vm1")
    assert server["status"] == "ACTIVE", cloud.logs()
    shown = osc("server", "show", "vm1")
    assert shown["status"] == "ACTIVE" and shown["OS-EXT-STS:power_state"] in ("Running", 1)
    assert shown["key_name"] == "k" and shown["OS-EXT-SRV-ATTR:host"] == HOST
    (address,) = shown["addresses"]["e2enet"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(CIDR)
    listed = {row["Name"]: row for row in osc("server", "list")}
    assert listed["vm1"]["Status"] == "ACTIVE" and address in str(listed["vm1"]["Networks"])

    fixed = FixedIP.objects.get(address=address, network=network)
    name = shown["OS-EXT-SRV-ATTR:instance_name"]
    state = cloud.state_path(HOST)
    leases = state / "networks" / str(network.pk) / "leases"
    marker = f"{builder.MARKER_UP} hostname=vm1 ip={address}"

    def console_has(text):
        return text in osc("console", "log", "show", "vm1", raw=True).stdout

    # dnsmasq handed that address to the instance's MAC; the guest says so on its console
    cloud.wait(lambda: console_has(marker), BOOT_TIMEOUT, "the guest's UP marker on the console")
    lease = leases.read_text()
    assert f"{fixed.mac_address} {address} vm1" in lease
    # ... and answers HTTP from the host on that address
    assert marker in cloud.wait(lambda: http(address), 30, "HTTP from the guest")
    tail = osc("console", "log", "show", "--lines", "3", "vm1", raw=True).stdout
    assert len(tail.splitlines()) <= 3

    # soft reboot: the guest obeys ACPI, a new QEMU process boots it again
    pid = _qemu_pid(name)
    osc("server", "reboot", "--wait", "vm1", raw=True)
    assert osc("server", "show", "vm1")["status"] == "ACTIVE"
    assert _qemu_pid(name) not in ("", pid)
    cloud.wait(lambda: console_has(marker), BOOT_TIMEOUT, "UP marker after the soft reboot")
    assert cloud.wait(lambda: http(address), 30, "HTTP after the soft reboot")

    # hard reboot: the domain is recreated from the DB, same address
    pid = _qemu_pid(name)
    osc("server", "reboot", "--hard", "--wait", "vm1", raw=True)
    assert osc("server", "show", "vm1")["status"] == "ACTIVE"
    assert _qemu_pid(name) not in ("", pid)
    cloud.wait(lambda: console_has(marker), BOOT_TIMEOUT, "UP marker after the hard reboot")
    assert cloud.wait(lambda: http(address), 30, "HTTP after the hard reboot")

    # stop: a clean ACPI power-off, then nothing answers; start boots it again
    osc("server", "stop", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "SHUTOFF", 90, "SHUTOFF")
    assert builder.MARKER_POWEROFF in (state / "instances" / name / "console.log").read_text(errors="replace")
    assert http(address, timeout=2) is None
    osc("server", "start", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 90, "ACTIVE after start")
    cloud.wait(lambda: console_has(marker), BOOT_TIMEOUT, "UP marker after start")
    assert cloud.wait(lambda: http(address), 30, "HTTP after start")

    # pause: the vCPUs stop, HTTP goes unanswered; unpause: it answers again
    osc("server", "pause", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "PAUSED", 60, "PAUSED")
    assert http(address, timeout=3) is None
    osc("server", "unpause", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 60, "ACTIVE after unpause")
    assert cloud.wait(lambda: http(address), 30, "HTTP after unpause")

    # suspend: memory saved to disk and QEMU gone; resume: the same guest carries on
    osc("server", "suspend", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "SUSPENDED", 90, "SUSPENDED")
    assert _qemu_pid(name) == "" and http(address, timeout=2) is None
    osc("server", "resume", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 90, "ACTIVE after resume")
    assert cloud.wait(lambda: http(address), 30, "HTTP after resume")

    # rebuild: a fresh disk from the image, same server id, MAC and address
    overlay = state / "instances" / name / "disk"
    os.setxattr(overlay, "user.cloudproj-test", b"the disk before the rebuild")
    out = osc("server", "rebuild", "--image", "cloudproj-test", "--wait", "vm1", "-f", "json", raw=True).stdout
    rebuilt = json.loads(out[out.index("{"):])  # --wait prints "Complete" first
    assert rebuilt["id"] == shown["id"]
    assert osc("server", "show", "vm1")["status"] == "ACTIVE"
    assert "user.cloudproj-test" not in os.listxattr(overlay)  # a new file (inode numbers get reused)
    cloud.wait(lambda: console_has(marker), BOOT_TIMEOUT, "UP marker after the rebuild")
    assert cloud.wait(lambda: http(address), 30, "HTTP after the rebuild")
    events = {e["Action"] for e in osc("server", "event", "list", "vm1")}
    assert {"create", "reboot", "stop", "start", "pause", "unpause", "suspend", "resume", "rebuild"} <= events

    # delete: domain, overlay and DHCP entry gone; the address back in the pool
    hosts_file = state / "networks" / str(network.pk) / "hosts"
    assert fixed.mac_address in hosts_file.read_text()
    osc("server", "delete", "--wait", "vm1", raw=True)
    assert "vm1" not in {row["Name"] for row in osc("server", "list")}
    import libvirt

    conn = libvirt.open("qemu:///system")
    try:
        assert name not in [dom.name() for dom in conn.listAllDomains(0)]
    finally:
        conn.close()
    assert not (state / "instances" / name).exists()
    cloud.wait(lambda: fixed.mac_address not in hosts_file.read_text(), 10, "the DHCP entry to go")
    fixed.refresh_from_db()
    assert (fixed.allocated, fixed.instance_uuid, fixed.mac_address) == (False, None, None)
