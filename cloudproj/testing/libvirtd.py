"""A private, unprivileged libvirtd (its test driver) that a test may stop and start: the
`private_libvirtd` fixture; and a second system libvirtd for real QEMU guests beside the
machine's own (`SecondSystemLibvirtd`: live migration between two daemons on one machine)."""
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest


class PrivateLibvirtd:
    """An unprivileged libvirtd (user nobody, session mode) with its own socket; the test
    driver inside it is reached through the remote driver, like qemu:///system is."""

    def __init__(self, root):
        self.root = root
        self.proc = None
        self.env = dict(os.environ, HOME=f"{root}/home", XDG_RUNTIME_DIR=f"{root}/run",
                        XDG_CONFIG_HOME=f"{root}/home/.config", XDG_CACHE_HOME=f"{root}/home/.cache")
        self.socket = f"{root}/run/libvirt/libvirt-sock"
        self.uri = f"test+unix:///default?socket={self.socket}"

    def start(self):
        import libvirt

        for sub in ("home", "run"):
            os.makedirs(f"{self.root}/{sub}", exist_ok=True)
        shutil.chown(self.root, "nobody")
        for sub in ("home", "run"):
            shutil.chown(f"{self.root}/{sub}", "nobody")
        self.proc = subprocess.Popen(["runuser", "-u", "nobody", "--", "libvirtd", "--timeout", "0"], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.exists(self.socket):
                try:
                    libvirt.open(self.uri).close()
                    return
                except libvirt.libvirtError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("the private libvirtd did not come up")

    def stop(self):
        if self.proc is None:
            return
        pidfile = f"{self.root}/run/libvirt/libvirtd.pid"
        try:
            with open(pidfile) as fh:
                os.kill(int(fh.read().strip()), 15)  # the libvirtd we started (child of runuser)
        except (OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        for _ in range(50):
            if not os.path.exists(self.socket):
                break
            time.sleep(0.1)


class SecondSystemLibvirtd:
    """A second privileged libvirtd (QEMU driver, guests as root) beside the machine's own, as a
    second hypervisor host would have: its own socket (`unix_sock_dir`), host UUID (libvirt
    refuses a migration to a daemon with its own UUID) and migration ports, and, in a mount
    namespace of its own, its own run, state, cache, log and config folders bind-mounted over
    /var/run/libvirt, /var/lib/libvirt, ... (a system daemon's QEMU driver has them built in).
    QEMU's console goes to files (no virtlogd in there); no security driver, no per-guest
    mount namespace. It shares this machine's network (bridges, taps)."""

    MOUNTS = ("/var/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt", "/etc/libvirt")

    def __init__(self, root):
        self.root = Path(root)
        self.socket = self.root / "sock" / "libvirt-sock"
        self.uri = f"qemu:///system?socket={self.socket}"
        self.proc = None

    def start(self):
        import libvirt

        folders = {mount: self.root / mount.strip("/").replace("/", "-") for mount in self.MOUNTS}
        for folder in [self.root / "sock", *folders.values()]:
            folder.mkdir(parents=True, exist_ok=True)
        (folders["/var/lib/libvirt"] / "qemu").mkdir(exist_ok=True)
        (folders["/var/cache/libvirt"] / "qemu").mkdir(exist_ok=True)
        (self.root / "libvirtd.conf").write_text(
            f'unix_sock_dir = "{self.root / "sock"}"\nunix_sock_rw_perms = "0700"\n'
            f'host_uuid = "{uuid.uuid4()}"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n')
        (folders["/etc/libvirt"] / "qemu.conf").write_text(
            'user = "root"\ngroup = "root"\nstdio_handler = "file"\nnamespaces = []\nsecurity_driver = "none"\n'
            'migration_port_min = 49252\nmigration_port_max = 49315\n')
        mounts = " && ".join(f"mount --bind {folder} {mount}" for mount, folder in folders.items())
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             f"{mounts} && exec libvirtd --config {self.root / 'libvirtd.conf'} --pid-file {self.root / 'pid'}"],
            stdout=open(self.root / "libvirtd.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.socket.exists():
                try:
                    libvirt.open(self.uri).close()
                    return
                except libvirt.libvirtError:
                    pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"the second libvirtd did not come up: {(self.root / 'libvirtd.log').read_text()[-800:]}")

    def remove_domains(self):
        """Every guest of this daemon stopped and undefined (its QEMU would outlive it)."""
        import libvirt

        conn = libvirt.open(self.uri)
        try:
            for dom in conn.listAllDomains(0):
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
        finally:
            conn.close()

    def stop(self):
        if self.proc is None:
            return
        try:
            self.remove_domains()
        except Exception:  # noqa: BLE001 - a dead daemon has no guests to remove
            pass
        self.proc.terminate()  # libvirtd itself (unshare and sh exec'd into it)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@pytest.fixture
def private_libvirtd():
    if shutil.which("libvirtd") is None or shutil.which("runuser") is None:
        pytest.skip("libvirtd or runuser is not installed")
    root = f"/tmp/cpt-test-libvirtd-{uuid.uuid4().hex[:8]}"
    daemon = PrivateLibvirtd(root)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)
