"""Issue 17: `make test` passes with a `make run` cloud running beside it, and after that cloud
was stopped (Ctrl-C) in the same clone.

A real `make run` (scripts/run.py as root: its private PostgreSQL and Redis, an agent on
qemu:///system with QEMU TCG, its dnsmasq, its chains) boots one real guest through the real
client, so its host state is all there: a domain named instance-00000001 (its first id), a
bridge, a dnsmasq, the metadata DNAT and security-group chains of its cloud. Beside it a second
pytest runs the modules that collided with such a cloud: a real-guest boot through the pipeline
(its domain was instance-00000001 too) and the metadata chain test of the issue (it expects the
chain to be its own). Then `make run` is stopped and the same modules run again.

The cloud has a name, ports, bridge and range of its own (CLOUD_NAME cpbeside), as a second
clone's `make run` would, so the machine's own `make run` (if any) is not touched.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

# Opt-in, and it stays so: it passed here twice (2026-12-07/08 on 2 cores shared with other
# sessions: 577 s at commit 4eae0b8, load average 5-8; 391 s at 856c3f6, load 2-5): a `make run`
# with a guest and two real-guest modules run twice. CI is at ~55 of its 60 minutes, so 7-10 more
# do not fit; the modules it runs beside `make run` are in `make test` on their own already.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    os.environ.get("CLOUDPROJ_TEST_BESIDE_MAKE_RUN") != "1",
    reason="opt-in: CLOUDPROJ_TEST_BESIDE_MAKE_RUN=1 (runs `make run` and two real-guest modules twice)")]

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
OPENSTACK = str(Path(PYTHON).with_name("openstack"))
BRIDGE = "cptbes0"
CIDR = "10.221.0.0/24"
# the modules that collided: a real guest named from instance id 1, the metadata chain's owner
BESIDE = ["compute/tests/test_pipeline_qemu.py", "metadata/tests/test_iptables.py"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def osc(cloud_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(cloud_dir),
           "OS_CLIENT_CONFIG_FILE": str(cloud_dir / "clouds.yaml"), "OS_CLOUD": "cloudproj"}
    return subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=600)


def run_tests_beside(database: str) -> subprocess.CompletedProcess:
    """A second pytest over BESIDE, on a database of its own, as `make test` would run them."""
    env = {k: v for k, v in os.environ.items() if k not in ("CLOUD_NAME", "TEST_CLOUD_NAME")}
    env["DATABASE_URL"] = database
    return subprocess.run([PYTHON, "-m", "pytest", "-q", "-x", *BESIDE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1500)


@pytest.fixture
def beside_database():
    import psycopg2

    name = f"cloudproj_beside_{os.getpid()}"
    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cursor.execute(f"DROP DATABASE IF EXISTS test_{name} WITH (FORCE)")
    admin.close()


def test_make_test_passes_beside_a_running_make_run_and_after_it_stopped(beside_database):
    if os.geteuid() != 0:
        pytest.skip("make run's private PostgreSQL and Redis and real guests need root")
    from cloudproj.testing.real_guest import libvirt_or_skip

    libvirt_or_skip()
    cloud_dir = Path(tempfile.mkdtemp(prefix="cloudproj-beside-", dir="/var/tmp"))  # the postgres user reaches it
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(CLOUD_DIR=str(cloud_dir), CLOUD_NAME="cpbeside", CLOUD_HOST="beside-host", API_PORT=str(api_port),
               API_BIND="127.0.0.1", FLOWER_PORT=str(free_port()), METADATA_PORT=str(free_port()),
               METADATA_BIND="127.0.0.1", RUN_POSTGRES_PORT=str(free_port()), RUN_REDIS_PORT=str(free_port()),
               LIBVIRT_URI="qemu:///system", VIRT_TYPE="qemu", FLAT_NETWORK_BRIDGE=BRIDGE, FIXED_RANGE=CIDR,
               RUN_FLOATING_RANGE="")
    log = open(cloud_dir / "run.log", "a")
    run = subprocess.Popen([PYTHON, "scripts/run.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server_uuid = None
    try:
        def api_up():
            assert run.poll() is None, (cloud_dir / "run.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/identity/v3", timeout=2):
                    return True
            except OSError:
                return False

        wait_for(api_up, 300, "make run's API")
        booted = osc(cloud_dir, "server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait",
                     "-f", "json", "beside-vm")
        assert booted.returncode == 0, booted.stderr + (cloud_dir / "run.log").read_text()[-3000:]
        shown = json.loads(booted.stdout)
        server_uuid = shown["id"]
        # the name a test's first guest had
        assert (shown["OS-EXT-SRV-ATTR:instance_name"], shown["status"]) == ("instance-00000001", "ACTIVE")

        beside = run_tests_beside(beside_database)
        assert beside.returncode == 0, beside.stdout[-4000:] + beside.stderr[-2000:]
        shown = osc(cloud_dir, "server", "show", "beside-vm", "-c", "status", "-f", "value")
        assert shown.stdout.strip() == "ACTIVE", shown.stderr  # make run's guest lived through the tests
        run.send_signal(signal.SIGINT)  # Ctrl-C: its processes, dnsmasq and chains go; its guest stays
        run.wait(timeout=120)

        after = run_tests_beside(beside_database)
        assert after.returncode == 0, after.stdout[-4000:] + after.stderr[-2000:]
    finally:
        if run.poll() is None:
            run.send_signal(signal.SIGINT)
            run.wait(timeout=120)
        log.close()
        _remove_guest(server_uuid)
        subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)
        import shutil

        shutil.rmtree(cloud_dir, ignore_errors=True)


def _remove_guest(server_uuid: str | None) -> None:
    if not server_uuid:
        return
    import libvirt

    conn = libvirt.open("qemu:///system")
    try:
        dom = conn.lookupByUUIDString(server_uuid)
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    except libvirt.libvirtError:
        pass
    finally:
        conn.close()
