"""Issue 17's load run: `make run` (scripts/run.py, as root: its private PostgreSQL and Redis,
real QEMU guests through qemu:///system) and the real `openstack` client booting N servers
(default 20) at once, then deleting them at once. Afterwards it counts what a production
cloud must not have:

  - servers in a transitional state (BUILD, task_state set, deleting) or left at all;
  - stranded rows: instances not deleted, capacity claims, allocated fixed IPs (= Networking
    API ports), DHCP host entries in the network's dnsmasq hosts file, leased flags, volumes;
  - domains of this cloud's instances still defined in libvirt;
  - unrecoverable worker errors in the run's log (Celery's "Unrecoverable error", a worker
    lost, a supervised process that exited, a traceback).

    flock /tmp/cloudproj-host.lock .venv/bin/python bench/load_run.py [--servers 20]

The cloud is its own: CLOUD_NAME cpload, CLOUD_DIR /var/tmp/cloudproj-load-<pid> (removed at
the end unless --keep), free ports, bridge cptload0 on 10.219.0.0/24, instance ids from
0x170000 (domain names never meet another cloud's on this libvirtd). Exit status 0 only when
every count is 0 and every server reached ACTIVE. Measurements, not a test: the figures go to
bench/RESULTS.md by hand with the machine's load.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
OPENSTACK = str(ROOT / ".venv" / "bin" / "openstack")
CLOUD_NAME = "cpload"
HOST = "load-host"
BRIDGE = "cptload0"
CIDR = "10.219.0.0/24"
FIRST_INSTANCE_ID = 0x170000
FLAVOR = "load.small"
TRANSITIONAL = {"BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING", "REBOOT", "HARD_REBOOT", "DELETED"}
# what counts as an unrecoverable worker error in the log of `make run`
LOG_PROBLEMS = {
    "unrecoverable": re.compile(r"Unrecoverable error"),
    "worker lost": re.compile(r"WorkerLostError|Worker exited prematurely"),
    "process exited": re.compile(r"\[cloudproj\] \w+ exited with status"),
    "traceback": re.compile(r"^Traceback \(most recent call last\)", re.M),
}


def say(message: str) -> None:
    print(f"[load] {time.strftime('%H:%M:%S')} {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Run:
    """scripts/run.py in a subprocess on a cloud of its own."""

    def __init__(self, keep: bool):
        self.dir = Path(tempfile.mkdtemp(prefix="cloudproj-load-", dir="/var/tmp"))
        self.keep = keep
        self.api_port = free_port()
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
        self.env.update(
            CLOUD_DIR=str(self.dir), CLOUD_NAME=CLOUD_NAME, CLOUD_HOST=HOST,
            API_PORT=str(self.api_port), API_BIND="127.0.0.1",
            FLOWER_PORT=str(free_port()), METADATA_PORT=str(free_port()), METADATA_BIND="127.0.0.1",
            RUN_POSTGRES_PORT=str(free_port()), RUN_REDIS_PORT=str(free_port()),
            LIBVIRT_URI="qemu:///system", VIRT_TYPE="qemu",
            FLAT_NETWORK_BRIDGE=BRIDGE, FIXED_RANGE=CIDR, RUN_FLOATING_RANGE="",
        )
        self.log_path = self.dir / "run.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([PYTHON, "scripts/run.py"], cwd=ROOT, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"make run ended early:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}/identity/v3", timeout=2):
                    return
            except OSError:
                time.sleep(1)
        sys.exit("the API did not answer in 600 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def osc(self, *args: str, timeout: float = 900):
        env = {"PATH": os.environ["PATH"], "HOME": str(self.dir),
               "OS_CLIENT_CONFIG_FILE": str(self.dir / "clouds.yaml"), "OS_CLOUD": "cloudproj"}
        return subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=timeout)

    def osc_json(self, *args: str):
        proc = self.osc(*args, "-f", "json")
        if proc.returncode:
            raise RuntimeError(f"openstack {' '.join(args)}: {proc.stderr.strip()}")
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def django(self, code: str) -> str:
        proc = subprocess.run([PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)
        if proc.returncode:
            raise RuntimeError(proc.stderr)
        return proc.stdout


STRANDED = """
import json
from compute.models import Claim, Instance
from network.models import FixedIP, Network
from network.linux import dnsmasq
from volumes.models import Volume
network = Network.objects.filter(bridge=%(bridge)r).first()
hosts = dnsmasq.paths(network.id)["hosts"] if network else None
entries = [line for line in hosts.read_text().splitlines() if line.strip()] if hosts and hosts.exists() else []
leases = dnsmasq.paths(network.id)["leases"] if network else None
leased = [line for line in leases.read_text().splitlines() if line.strip()] if leases and leases.exists() else []
print(json.dumps({
    "instances not deleted": Instance.objects.count(),
    "capacity claims": Claim.objects.count(),
    "fixed IPs / ports allocated": FixedIP.objects.filter(instance_uuid__isnull=False).count(),
    "fixed IPs leased": FixedIP.objects.filter(leased=True).count(),
    "DHCP host entries": len(entries),
    "dnsmasq leases": len(leased),
    "volumes": Volume.objects.count(),
    "instance uuids": [str(u) for u in Instance.all_objects.values_list("uuid", flat=True)],
}))
"""


def leftover_domains(uuids: list[str]) -> int:
    import libvirt

    conn = libvirt.open("qemu:///system")
    try:
        found = 0
        for uuid in uuids:
            try:
                conn.lookupByUUIDString(uuid)
                found += 1
            except libvirt.libvirtError:
                pass
        return found
    finally:
        conn.close()


def boot_one(run: Run, name: str) -> dict:
    started = time.monotonic()
    proc = run.osc("server", "create", "--image", "cloudproj-test", "--flavor", FLAVOR, "--wait",
                   "-f", "json", name)
    took = time.monotonic() - started
    if proc.returncode:
        return {"name": name, "ok": False, "seconds": took, "error": proc.stderr.strip()[-500:]}
    shown = json.loads(proc.stdout)
    return {"name": name, "id": shown["id"], "ok": shown["status"] == "ACTIVE", "status": shown["status"],
            "seconds": took}


def delete_one(run: Run, server_id: str) -> dict:
    started = time.monotonic()
    proc = run.osc("server", "delete", "--wait", server_id)
    return {"id": server_id, "ok": proc.returncode == 0, "seconds": time.monotonic() - started,
            "error": proc.stderr.strip()[-500:]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the cloud's directory (logs, database)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: make run's private PostgreSQL and Redis, real QEMU guests")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped (SIGTERM)"))  # make run is stopped too
    report: dict = {"servers": args.servers, "start": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "load_before": os.getloadavg()}
    run = Run(args.keep)
    say(f"make run in {run.dir} (log {run.log_path})")
    try:
        run.start()
        say("cloud up")
        import psycopg2

        url = next(line.split("=", 1)[1] for line in (run.dir / "env").read_text().splitlines()
                   if line.startswith("DATABASE_URL="))
        with psycopg2.connect(url) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('compute_instance', 'id'), %s, false)",
                           [FIRST_INSTANCE_ID])
        run.osc_json("flavor", "create", "--ram", "256", "--vcpus", "1", "--disk", "1", FLAVOR)
        n = args.servers
        run.osc("quota", "set", "--instances", str(n + 5), "--cores", str(n + 5), "--ram", str((n + 5) * 256), "admin")
        deadline = time.monotonic() + 120
        while not any(s["Binary"] == "nova-compute" and s["State"] == "up"
                      for s in run.osc_json("compute", "service", "list")):
            if time.monotonic() > deadline:
                raise RuntimeError("nova-compute did not come up")
            time.sleep(2)

        say(f"booting {n} servers at once")
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            boots = list(pool.map(lambda i: boot_one(run, f"load-{i:02d}"), range(n)))
        report["boot_wall_s"] = round(time.monotonic() - t0, 1)
        report["load_after_boot"] = os.getloadavg()
        listed = run.osc_json("server", "list", "--all-projects", "--long")
        report["after_boot"] = {
            "ACTIVE": sum(1 for s in listed if s["Status"] == "ACTIVE"),
            "ERROR": sum(1 for s in listed if s["Status"] == "ERROR"),
            "transitional": sum(1 for s in listed if s["Status"] in TRANSITIONAL or s.get("Task State")),
            "client failures": [b for b in boots if not b["ok"]],
        }
        times = [b["seconds"] for b in boots if b["ok"]]
        report["boot_seconds"] = {"p50": round(percentile(times, 0.5), 1), "max": round(max(times, default=0), 1)}
        say(f"boots: {report['after_boot']} in {report['boot_wall_s']} s")

        ids = [s["ID"] for s in listed]
        say(f"deleting {len(ids)} servers at once")
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max(1, len(ids))) as pool:
            deletes = list(pool.map(lambda i: delete_one(run, i), ids))
        report["delete_wall_s"] = round(time.monotonic() - t0, 1)
        left = run.osc_json("server", "list", "--all-projects", "--long")
        report["after_delete"] = {
            "servers left": len(left),
            "transitional": sum(1 for s in left if s["Status"] in TRANSITIONAL or s.get("Task State")),
            "client failures": [d for d in deletes if not d["ok"]],
        }
        stranded = json.loads(run.django(STRANDED % {"bridge": BRIDGE}).strip().splitlines()[-1])
        uuids = stranded.pop("instance uuids")
        stranded["libvirt domains"] = leftover_domains(uuids)
        report["stranded"] = stranded
    finally:
        run.stop()
        text = run.log_path.read_text() if run.log_path.exists() else ""
        report["log"] = {what: len(pattern.findall(text)) for what, pattern in LOG_PROBLEMS.items()}
        report["end"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        print(json.dumps(report, indent=2), flush=True)
    ok = (report["after_boot"]["ACTIVE"] == args.servers and not report["after_boot"]["client failures"]
          and report["after_boot"]["transitional"] == 0 and report["after_delete"]["servers left"] == 0
          and not report["after_delete"]["client failures"]
          and not any(report["stranded"].values()) and not any(report["log"].values()))
    say("PASS: nothing transitional, stranded or unrecoverable" if ok else "FAIL: see the report above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
