"""What every real-guest test shares: a cloud of real processes (scheduler + one agent on
libvirt/QEMU, or more: `extra_hosts`, each agent a host of its own name, instances folder and
queues on the same libvirtd) around the project's test image and a network on a bridge of the test's own,
and a teardown that leaves no guest, dnsmasq or bridge behind.

    with real_guest_cloud(settings, tmp_path, osc, label="e2enet", cidr=..., bridge=..., host=...) as env:
        env.cloud, env.network, env.images["root"]
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import zlib
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from compute.models import Instance
from compute.services.flavors import ensure_default_flavors
from images.testimage import builder
from network.linux import dnsmasq
from network.services.networks import create_network

from .cloud import Cloud, redis_broker_or_skip

ROOT = Path(__file__).resolve().parents[2]
# real_guest_cloud's instance ids when a test names none: 0x500000 + 0x1000 * (crc32(label) % 1024)
DEFAULT_ID_BASE = 0x500000


def libvirt_or_skip():
    missing = [tool for tool in ("qemu-system-x86_64", "qemu-img", "dnsmasq", "mkfs.ext4") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing host tools: {', '.join(missing)}")
    up = subprocess.run(["bash", str(ROOT / "scripts" / "libvirt-up.sh")], capture_output=True, text=True, timeout=90)
    if up.returncode != 0:
        pytest.skip(f"libvirtd could not be started: {up.stderr[-500:]}")


def own_instance_ids(start: int) -> None:
    """Domain names come from instance ids (instance-%08x): start this test's ids far from
    those of other test databases whose guests may share this libvirt."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('compute_instance', 'id'), %s, false)", [start])


def remove_domains_of_this_test():
    """A failed run must not leave a guest behind (the next run reuses instance names)."""
    import libvirt

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


def http(address: str, timeout: float = 3) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{address}/", timeout=timeout) as response:
            return response.read().decode(errors="replace")
    except OSError:
        return None


def get(address: str, path: str, timeout: float = 5) -> str | None:
    """The body of http://<address><path> (the test image's CGIs), None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=timeout) as response:
            return response.read().decode(errors="replace")
    except OSError:
        return None


class Prober:
    """Probe a guest's HTTP every half second through a move (this machine has no `ping`);
    `lost()` stops and says (probes, unanswered)."""

    def __init__(self, address):
        self.address, self.sent, self.missed = address, 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.wait(0.5):
            self.sent += 1
            if http(self.address, timeout=0.5) is None:
                self.missed += 1

    def lost(self) -> tuple[int, int]:
        self.stop.set()
        self.thread.join(5)
        return self.sent, self.missed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return sock.getsockname()[1]


def start_metadata_service(cloud: Cloud, port: int) -> None:
    """gunicorn metadata.wsgi, as `make run` starts it, logging next to the other processes."""
    log = cloud.tmp_path / "metadata.log"
    argv = [str(Path(sys.executable).with_name("gunicorn")), "metadata.wsgi", "--bind", f"0.0.0.0:{port}",
            "--workers", "1", "--threads", "4", "--access-logfile", "-"]
    with open(log, "a") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=cloud.env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    cloud.procs["metadata"] = (proc, log)

    def answering():
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
        except urllib.error.HTTPError as exc:
            return exc.code == 404  # the host is no instance: it answers, with nothing
        except OSError:
            return False
        return False

    cloud.wait(answering, 30, "the metadata service to answer")


@contextmanager
def real_guest_cloud(settings, tmp_path, osc, *, label: str, cidr: str, bridge: str, host: str,
                     instance_id_start: int | None = None, servers=("vm1",), cloud_env=None, agent_env=None,
                     before_agents=None, network_options=None, extra_hosts=(), host_env=None):
    """Test image registered, network `label` on `bridge`, a scheduler and an agent `host` on
    qemu:///system (and one per name of `extra_hosts`: two-host tests; the network is then
    served by `host` alone, one dnsmasq on the bridge). `before_agents(cloud)` runs first
    (e.g. to start a metadata service). `host_env`: {host: {setting: value}} for one agent
    (e.g. its own LIBVIRT_URI: a second libvirtd).
    On exit: the `servers` deleted through the client, processes stopped, the test's domains,
    the network's dnsmasq and the bridge removed."""
    libvirt_or_skip()
    url = redis_broker_or_skip()
    if instance_id_start is None:
        # never instance-00000001...: the domain names of a `make run` beside the tests (its
        # ids start at 1 on the same libvirtd; a second domain of that name cannot be defined)
        instance_id_start = DEFAULT_ID_BASE + (zlib.crc32(label.encode()) % 0x400) * 0x1000
    own_instance_ids(instance_id_start)
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    ensure_default_flavors()
    images = builder.register(builder.build(tmp_path / "testimage"))
    if extra_hosts:
        network_options = {"host": host, **(network_options or {})}
    network = create_network(label, cidr, bridge=bridge, **(network_options or {}))
    cloud = Cloud(tmp_path, url, **(cloud_env or {}))
    try:
        if before_agents is not None:
            before_agents(cloud)
        cloud.start_scheduler()
        for name in (host, *extra_hosts):
            cloud.start_agent(name, **{"LIBVIRT_URI": "qemu:///system", "VIRT_TYPE": "qemu", **(agent_env or {}),
                                       **(host_env or {}).get(name, {})})
        cloud.wait_up([host, *extra_hosts])
        yield SimpleNamespace(cloud=cloud, network=network, images=images)
    finally:
        for name in servers:
            osc("server", "delete", "--wait", name, check=False)
        settings.NETWORKS_PATH = cloud.state_path(host) / "networks"
        dnsmasq_pid = dnsmasq.pid(network.pk)  # its pid file goes with the agent's state
        cloud.stop()
        remove_domains_of_this_test()
        if dnsmasq_pid:
            try:
                os.kill(dnsmasq_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "link", "del", bridge], check=False, capture_output=True)
