"""End to end with a real guest: the real `openstack` client against the API, the scheduler
worker and a host agent on libvirt/QEMU (TCG), the project's test image, a real bridge and
dnsmasq. Checks what a user and an operator would see: states, the address and its lease,
the guest's own console markers, HTTP answers from the guest, and a clean delete.
"""
import ipaddress
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from compute.services.flavors import ensure_default_flavors
from images.testimage import builder
from network.models import FixedIP
from network.services.networks import create_network

from .cloud_harness import Cloud

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
HOST = "qemu-host"
BRIDGE = "cpte2e0"
CIDR = "10.232.0.0/24"
BOOT_TIMEOUT = 150


def _libvirt_or_skip():
    missing = [tool for tool in ("qemu-system-x86_64", "qemu-img", "dnsmasq", "mkfs.ext4") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing host tools: {', '.join(missing)}")
    up = subprocess.run(["bash", str(ROOT / "scripts" / "libvirt-up.sh")], capture_output=True, text=True, timeout=90)
    if up.returncode != 0:
        pytest.skip(f"libvirtd could not be started: {up.stderr[-500:]}")


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, osc):
    _libvirt_or_skip()
    from cloudproj.celery import app

    url = app.conf.broker_url
    if not url.startswith("redis://"):
        pytest.skip("needs the real Redis broker: CELERY_BROKER_URL=redis://...")
    import redis

    redis.Redis.from_url(url).flushdb()
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    ensure_default_flavors()
    built = builder.build(tmp_path / "testimage")
    images = builder.register(built)
    network = create_network("e2enet", CIDR, bridge=BRIDGE)
    cloud = Cloud(tmp_path, url)
    cloud.start_scheduler()
    cloud.start_agent(HOST, LIBVIRT_URI="qemu:///system", VIRT_TYPE="qemu")
    cloud.wait_up([HOST])
    yield {"cloud": cloud, "image": images["root"], "network": network}
    osc("server", "delete", "--wait", "vm1", check=False)
    cloud.stop()
    _remove_domains_of_this_test()
    subprocess.run(["pkill", "-f", f"dnsmasq.*--interface={BRIDGE} "], check=False)
    subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)


def _remove_domains_of_this_test():
    """A failed run must not leave a guest behind (the next run reuses instance names)."""
    import libvirt

    from compute.models import Instance

    conn = libvirt.open("qemu:///system")
    try:
        for instance_uuid in Instance.all_objects.values_list("uuid", flat=True):
            try:
                dom = conn.lookupByUUIDString(str(instance_uuid))
            except libvirt.libvirtError:
                continue
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    finally:
        conn.close()


def _http(address: str, timeout: float = 3) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{address}/", timeout=timeout) as response:
            return response.read().decode(errors="replace")
    except OSError:
        return None


def _qemu_pid(name: str) -> str:
    path = Path("/run/libvirt/qemu") / f"{name}.pid"
    return path.read_text().strip() if path.exists() else ""


def test_boot_the_test_image_through_the_real_client(real_cloud, osc):
    cloud, network = real_cloud["cloud"], real_cloud["network"]
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
    assert marker in cloud.wait(lambda: _http(address), 30, "HTTP from the guest")
    tail = osc("console", "log", "show", "--lines", "3", "vm1", raw=True).stdout
    assert len(tail.splitlines()) <= 3

    # soft reboot: the guest obeys ACPI, a new QEMU process boots it again
    pid = _qemu_pid(name)
    osc("server", "reboot", "--wait", "vm1", raw=True)
    assert osc("server", "show", "vm1")["status"] == "ACTIVE"
    assert _qemu_pid(name) not in ("", pid)
    cloud.wait(lambda: console_has(marker), BOOT_TIMEOUT, "UP marker after the soft reboot")
    assert cloud.wait(lambda: _http(address), 30, "HTTP after the soft reboot")

    # hard reboot: the domain is recreated from the DB, same address
    pid = _qemu_pid(name)
    osc("server", "reboot", "--hard", "--wait", "vm1", raw=True)
    assert osc("server", "show", "vm1")["status"] == "ACTIVE"
    assert _qemu_pid(name) not in ("", pid)
    cloud.wait(lambda: console_has(marker), BOOT_TIMEOUT, "UP marker after the hard reboot")
    assert cloud.wait(lambda: _http(address), 30, "HTTP after the hard reboot")

    # stop: a clean ACPI power-off, then nothing answers; start boots it again
    osc("server", "stop", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "SHUTOFF", 90, "SHUTOFF")
    assert builder.MARKER_POWEROFF in (state / "instances" / name / "console.log").read_text(errors="replace")
    assert _http(address, timeout=2) is None
    osc("server", "start", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 90, "ACTIVE after start")
    cloud.wait(lambda: console_has(marker), BOOT_TIMEOUT, "UP marker after start")
    assert cloud.wait(lambda: _http(address), 30, "HTTP after start")

    # pause: the vCPUs stop, HTTP goes unanswered; unpause: it answers again
    osc("server", "pause", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "PAUSED", 60, "PAUSED")
    assert _http(address, timeout=3) is None
    osc("server", "unpause", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 60, "ACTIVE after unpause")
    assert cloud.wait(lambda: _http(address), 30, "HTTP after unpause")

    # suspend: memory saved to disk and QEMU gone; resume: the same guest carries on
    osc("server", "suspend", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "SUSPENDED", 90, "SUSPENDED")
    assert _qemu_pid(name) == "" and _http(address, timeout=2) is None
    osc("server", "resume", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 90, "ACTIVE after resume")
    assert cloud.wait(lambda: _http(address), 30, "HTTP after resume")

    # rebuild: a fresh disk from the image, same server id, MAC and address
    overlay = state / "instances" / name / "disk"
    before = overlay.stat().st_ino
    out = osc("server", "rebuild", "--image", "cloudproj-test", "--wait", "vm1", "-f", "json", raw=True).stdout
    rebuilt = json.loads(out[out.index("{"):])  # --wait prints "Complete" first
    assert rebuilt["id"] == shown["id"]
    assert osc("server", "show", "vm1")["status"] == "ACTIVE"
    assert overlay.stat().st_ino != before
    cloud.wait(lambda: console_has(marker), BOOT_TIMEOUT, "UP marker after the rebuild")
    assert cloud.wait(lambda: _http(address), 30, "HTTP after the rebuild")
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
