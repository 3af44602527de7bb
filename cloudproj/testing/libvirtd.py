"""A private, unprivileged libvirtd (its test driver) that a test may stop and start: the
`private_libvirtd` fixture."""
import os
import shutil
import subprocess
import time
import uuid

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
