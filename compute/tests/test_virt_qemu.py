"""Real QEMU guests (TCG) through qemu:///system.

The guest is the Debian cloud kernel from the machine's apt cache booted directly (no
initrd: it prints its boot to the serial console and panics looking for a root disk, which
is all these tests need); without that package an empty qcow2 disk is booted (SeaBIOS).
"""
import glob
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from compute.virt import power_state as ps
from compute.virt.driver import InstanceInvalidState
from compute.virt.libvirt_driver import LibvirtDriver
from compute.virt.spec import InstanceSpec, console_log_path

libvirt = pytest.importorskip("libvirt", reason="libvirt-python (the libvirt module) is not installed")

pytestmark = pytest.mark.slow

URI = "qemu:///system"
PREFIX = "cpt-test-"
ROOT = Path(__file__).resolve().parents[2]
KERNEL_DEBS = "/var/cache/apt/archives/linux-image-*-cloud-amd64_*.deb"


@pytest.fixture(scope="session")
def qemu_libvirt():
    if os.geteuid() != 0:
        pytest.skip("not root: cannot start libvirtd or create a bridge")
    for tool in ("libvirtd", "qemu-system-x86_64", "qemu-img", "ip"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    subprocess.run(["bash", str(ROOT / "scripts" / "libvirt-up.sh")], check=True, timeout=60)
    return URI


@pytest.fixture(scope="session")
def guest_kernel(tmp_path_factory):
    """A bzImage extracted from a linux-image-*-cloud-amd64 .deb, or None (boot the disk)."""
    debs = sorted(glob.glob(KERNEL_DEBS))
    if not debs or shutil.which("dpkg-deb") is None:
        return None
    out = tmp_path_factory.mktemp("kernel")
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", debs[-1]], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(out), "--wildcards", "./boot/vmlinuz-*"], stdin=tar.stdout,
                   check=True, timeout=120)
    tar.stdout.close()
    tar.wait(timeout=30)
    kernels = sorted(out.glob("boot/vmlinuz-*"))
    return str(kernels[0]) if kernels else None


@pytest.fixture
def bridge():
    name = f"cptv{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    yield name
    subprocess.run(["ip", "link", "del", name], check=False)


@pytest.fixture
def qemu_driver(qemu_libvirt, tmp_path):
    drv = LibvirtDriver(qemu_libvirt, host="virt-qemu-test", instances_path=tmp_path)
    created = []
    drv.created = created
    yield drv
    for ref in created:  # clean up even when the test failed half-way
        try:
            drv.destroy(ref, cleanup_files=True)
        except Exception:  # noqa: BLE001 - cleanup goes on past a domain that is gone
            pass


@pytest.fixture
def qemu_spec(qemu_driver, guest_kernel, bridge, tmp_path):
    name = f"{PREFIX}{uuid.uuid4().hex[:8]}"
    disk = tmp_path / name / "disk"
    disk.parent.mkdir(parents=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "64M"], check=True, timeout=30)
    spec = InstanceSpec(
        uuid=str(uuid.uuid4()), name=name, display_name="qemu <test> & 'guest'", memory_mb=256, vcpus=1,
        disk_path=str(disk), console_log_path=console_log_path(tmp_path, name), virt_type="qemu",
        nics=[("fa:16:3e:12:34:56", bridge)], kernel_path=guest_kernel,
        cmdline="console=ttyS0 root=/dev/vda panic=0" if guest_kernel else None,
    )
    qemu_driver.created.append(spec.uuid)
    return spec


def wait_for_console(driver, spec, text, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = driver.console_log(spec)
        if text in log:
            return log
        time.sleep(0.5)
    raise AssertionError(f"{text!r} not in the console log after {timeout}s:\n{driver.console_log(spec)[-2000:]}")


def test_real_guest_lifecycle(qemu_driver, qemu_spec):
    drv, spec = qemu_driver, qemu_spec
    assert drv.spawn(spec) == ps.RUNNING
    assert spec.name in drv.list_instances()
    assert os.path.exists(spec.console_log_path)
    if spec.kernel_path:
        wait_for_console(drv, spec, "Linux version")

    info = drv.get_info(spec)
    assert (info.state, info.uuid, info.num_cpu, info.max_mem_kb) == (ps.RUNNING, spec.uuid, 1, 256 * 1024)
    dom = drv.conn.lookupByUUIDString(spec.uuid)
    desc = dom.XMLDesc(0)
    assert "fa:16:3e:12:34:56" in desc and spec.nics[0].bridge in desc
    assert dom.isActive()

    assert drv.pause(spec) == ps.PAUSED
    assert drv.get_info(spec).state == ps.PAUSED
    cpu = drv.get_info(spec).cpu_time_ns
    time.sleep(1)
    assert drv.get_info(spec).cpu_time_ns == cpu  # a paused guest burns no CPU
    assert drv.unpause(spec) == ps.RUNNING

    # suspend = managed save: QEMU exits, its memory image is kept, create() restores it
    assert drv.suspend(spec) == ps.SUSPENDED
    assert not dom.isActive() and dom.hasManagedSaveImage(0)
    assert drv.resume(spec) == ps.RUNNING
    assert not dom.hasManagedSaveImage(0)

    # hard reboot: a new QEMU process for the same domain (same uuid), a fresh console log
    pid_before = dom.ID()
    assert drv.reboot(spec, hard=True) == ps.RUNNING
    dom = drv.conn.lookupByUUIDString(spec.uuid)
    assert dom.ID() != pid_before and drv.get_info(spec).uuid == spec.uuid
    if spec.kernel_path:
        wait_for_console(drv, spec, "Linux version")

    # the guest (a panicked kernel) ignores ACPI: a soft reboot falls back to hard
    before = dom.ID()
    assert drv.reboot(spec, hard=False, timeout=3) == ps.RUNNING
    assert drv.conn.lookupByUUIDString(spec.uuid).ID() != before

    assert drv.power_off(spec, timeout=2) == ps.SHUTDOWN
    assert drv.get_power_state(spec) == ps.SHUTDOWN
    assert drv.power_on(spec) == ps.RUNNING

    assert drv.destroy(spec, cleanup_files=True) is True
    assert spec.name not in drv.list_instances()
    assert drv.get_power_state(spec.uuid) == ps.NOSTATE
    assert not os.path.exists(spec.instance_dir)
    assert drv.destroy(spec) is False


def test_crash_dump_injects_an_nmi_into_a_real_guest(qemu_driver, qemu_spec):
    """trigger_crash_dump (compute API 2.17) is virDomainInjectNMI: QEMU accepts it for a running
    guest, which goes on running (its kernel decides what to do). The test kernel has panicked
    (no root disk) by then and prints nothing for it, so the console is not checked."""
    drv, spec = qemu_driver, qemu_spec
    assert drv.spawn(spec) == ps.RUNNING
    drv.trigger_crash_dump(spec.uuid)
    assert drv.get_power_state(spec) == ps.RUNNING
    assert drv.power_off(spec, timeout=2) == ps.SHUTDOWN
    with pytest.raises(InstanceInvalidState, match="sent an NMI"):
        drv.trigger_crash_dump(spec)
    assert drv.destroy(spec, cleanup_files=True) is True


@pytest.mark.skipif(os.environ.get("CPT_RESTART_SYSTEM_LIBVIRTD") != "1",
                    reason="restarting the shared system libvirtd disturbs every other qemu:///system user; "
                           "set CPT_RESTART_SYSTEM_LIBVIRTD=1 to run it (test_virt_lifecycle restarts a private "
                           "libvirtd instead)")
def test_reconnect_after_system_libvirtd_restart(qemu_driver):
    assert isinstance(qemu_driver.list_instances(), list)
    pid = int(Path("/var/run/libvirtd.pid").read_text().strip())
    os.kill(pid, 15)
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}"):
            break
        time.sleep(0.1)
    subprocess.run(["bash", str(ROOT / "scripts" / "libvirt-up.sh")], check=True, timeout=60)
    assert isinstance(qemu_driver.list_instances(), list)
