"""The project's test image: built offline from Debian packages, registered, and really
booted under QEMU (TCG) with the root disk as a qcow2 overlay on the cached base."""
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
from django.core.management import call_command

from images.drivers import cache, qemu_img
from images.models import Image
from images.testimage import builder

pytestmark = pytest.mark.slow

BOOT_TIMEOUT = 90


def _missing_tools():
    tools = ("qemu-system-x86_64", "qemu-img", "mkfs.ext4", "depmod", "dpkg-deb", "apt-get")
    return [tool for tool in tools if shutil.which(tool) is None]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    missing = _missing_tools()
    if missing:
        pytest.skip(f"missing host tools: {', '.join(missing)}")
    try:
        return builder.build(tmp_path_factory.mktemp("testimage"))
    except builder.BuildError as exc:
        if "apt-get download" in str(exc) or "cannot resolve" in str(exc):
            pytest.skip(f"Debian packages not available offline or online: {exc}")
        raise


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_module_load_order_puts_dependencies_first(built, tmp_path):
    tree = next(p for p in (built.kernel.parent / "extract").iterdir() if p.name.startswith("linux-image"))
    order = [name for name, _ in builder.module_load_order(tree, built.kernel_version)]
    assert set(order) >= {"virtio_ring", "virtio", "virtio_pci", "virtio_blk", "failover", "net_failover", "virtio_net"}
    assert order.index("virtio_ring") < order.index("virtio") < order.index("virtio_pci") < order.index("virtio_blk")
    assert order.index("failover") < order.index("net_failover") < order.index("virtio_net")


def test_rebuild_reuses_outputs(built):
    before = built.root.stat().st_mtime_ns
    again = builder.build(built.kernel.parent)
    assert again.root == built.root and again.root.stat().st_mtime_ns == before


@pytest.mark.django_db
def test_register_makes_aki_ari_ami_and_reuses_them(built, capsys):
    call_command("build_test_image", "--register", "--output", str(built.kernel.parent))
    out = capsys.readouterr().out
    root = Image.objects.get(name="cloudproj-test")
    kernel = Image.objects.get(name="cloudproj-test-kernel")
    ramdisk = Image.objects.get(name="cloudproj-test-ramdisk")
    assert str(root.id) in out and str(kernel.id) in out and str(ramdisk.id) in out
    assert (kernel.disk_format, ramdisk.disk_format, root.disk_format) == ("aki", "ari", "ami")
    assert {img.visibility for img in (kernel, ramdisk, root)} == {"public"}
    assert root.properties["kernel_id"] == str(kernel.id)
    assert root.properties["ramdisk_id"] == str(ramdisk.id)
    assert root.properties["architecture"] == "x86_64"
    assert root.properties["os_command_line"] == "root=/dev/vda console=ttyS0"
    call_command("build_test_image", "--register", "--output", str(built.kernel.parent))
    assert Image.objects.filter(name__startswith="cloudproj-test").count() == 3


@pytest.mark.django_db
def test_test_image_boots_under_qemu(built, settings, tmp_path):
    images = builder.register(built)
    kernel, ramdisk, root = (cache.ensure_cached(images[k]) for k in ("kernel", "ramdisk", "root"))
    overlay = cache.create_overlay(root, settings.INSTANCES_PATH / "instance-00000001" / "disk",
                                   size_gb=1, backing_format="raw")
    pristine = qemu_img.info(root, fmt="raw")
    port = _free_port()
    log = tmp_path / "console.log"
    monitor = tmp_path / "monitor.sock"
    proc = subprocess.Popen([
        "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "256", "-nodefaults", "-no-reboot",
        "-kernel", str(kernel), "-initrd", str(ramdisk), "-append", builder.KERNEL_CMDLINE,
        "-drive", f"file={overlay},format=qcow2,if=virtio",
        "-nic", f"user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:{port}-:80",
        "-serial", f"file:{log}", "-display", "none", "-monitor", f"unix:{monitor},server,nowait",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        marker = f"{builder.MARKER_UP} hostname=cloudproj-test ip=10.0.2.15"
        deadline = time.monotonic() + BOOT_TIMEOUT
        text = ""
        while time.monotonic() < deadline and proc.poll() is None:
            text = log.read_text(errors="replace") if log.exists() else ""
            if marker in text:
                break
            time.sleep(0.5)
        assert marker in text, f"no boot marker in the serial log:\n{text[-3000:]}"
        page = ""
        for _ in range(20):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                    page = resp.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert marker in page and "10.0.2.15" in page
        # The ACPI power button (what `virsh shutdown` sends) powers the guest off cleanly.
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(monitor))
            time.sleep(0.3)
            sock.sendall(b"system_powerdown\n")
            time.sleep(0.3)
        assert proc.wait(30) == 0
        assert builder.MARKER_POWEROFF in log.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
    assert qemu_img.info(root, fmt="raw") == pristine
    assert root.read_bytes() == built.root.read_bytes()  # the guest wrote only to its overlay


def _boot(kernel, ramdisk, overlay, log, cmdline=builder.KERNEL_CMDLINE, extra_drives=()):
    port = _free_port()
    drives = []
    for path in (overlay, *extra_drives):
        fmt = "qcow2" if path == overlay else "raw"
        drives += ["-drive", f"file={path},format={fmt},if=virtio"]
    proc = subprocess.Popen([
        "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "256", "-nodefaults", "-no-reboot",
        "-kernel", str(kernel), "-initrd", str(ramdisk), "-append", cmdline, *drives,
        "-nic", f"user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:{port}-:80",
        "-serial", f"file:{log}", "-display", "none",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, port


def _wait_console(proc, log, marker):
    deadline = time.monotonic() + BOOT_TIMEOUT
    text = ""
    while time.monotonic() < deadline and proc.poll() is None:
        text = log.read_text(errors="replace") if log.exists() else ""
        if marker in text:
            return text
        time.sleep(0.5)
    raise AssertionError(f"no {marker!r} in the serial log:\n{text[-3000:]}")


def _get(port, path):
    for _ in range(20):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
                return resp.read().decode()
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"guest did not answer {path}")


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)


@pytest.mark.django_db
def test_guest_cgis_write_volumes_and_notes_and_static_address(built, settings, tmp_path):
    """The hands tests have inside a guest: /cgi-bin/disk on an extra disk, /cgi-bin/note that
    survives a reboot of the same disk, and a static address from ip= on the kernel command line."""
    images = builder.register(built)
    kernel, ramdisk, root = (cache.ensure_cached(images[k]) for k in ("kernel", "ramdisk", "root"))
    overlay = cache.create_overlay(root, tmp_path / "disk", size_gb=1, backing_format="raw")
    volume = tmp_path / "volume.raw"
    volume.write_bytes(b"\0" * (4 << 20))
    proc, port = _boot(kernel, ramdisk, overlay, tmp_path / "first.log", extra_drives=[volume])
    try:
        _wait_console(proc, tmp_path / "first.log", builder.MARKER_UP)
        assert _get(port, "/cgi-bin/disk?list").split() == ["DISK-LIST", "vda", "vdb"]
        assert _get(port, "/cgi-bin/disk?size&dev=vdb").strip() == f"DISK-SIZE {4 << 20}"
        assert _get(port, "/cgi-bin/disk?write=marker-1&dev=vdb").strip() == "DISK-WRITTEN marker-1"
        assert _get(port, "/cgi-bin/disk?read&dev=vdb").strip() == "DISK-READ CLOUDPROJ-DISK marker-1"
        assert _get(port, "/cgi-bin/disk?write=x;reboot").strip() == "DISK-BAD-TOKEN"
        assert _get(port, "/cgi-bin/disk?read&dev=vda").strip() == "DISK-BAD-DEVICE"
        assert _get(port, "/cgi-bin/note?write=note-7").strip() == "NOTE-WRITTEN note-7"
    finally:
        _stop(proc)
    assert volume.read_bytes().startswith(b"CLOUDPROJ-DISK marker-1\n")

    cmdline = f"{builder.KERNEL_CMDLINE} ip=10.0.2.15::10.0.2.2:255.255.255.0:flathost:eth0:off"
    proc, port = _boot(kernel, ramdisk, overlay, tmp_path / "second.log", cmdline=cmdline)
    try:
        text = _wait_console(proc, tmp_path / "second.log", builder.MARKER_UP)
        assert "CLOUDPROJ-NOTE note-7" in text
        assert "static address 10.0.2.15/255.255.255.0 gateway 10.0.2.2 on eth0" in text
        assert f"{builder.MARKER_UP} hostname=flathost ip=10.0.2.15" in text
        assert "udhcpc" not in text
        assert "hostname=flathost" in _get(port, "/")
    finally:
        _stop(proc)
