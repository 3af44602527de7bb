#!/usr/bin/env python3
"""`make conformance`: OpenStack's own integration suite (tempest, pinned in
conformance/requirements.txt) against a private cloud started the way `make run` starts one.

1. tempest goes into its own venv, .cache/tempest-venv (rebuilt only when the pin changes);
2. a private cloud: state in .cache/conformance-cloud/, database cloudproj_conformance (dropped
   and created fresh), Redis db 12, API/metadata ports 18774/18775, bridge cptconf0 on
   10.250.0.0/24, agent host `conformance`, instance ids from 0x0c0f0000 (libvirt domain names
   cannot clash with a developer's `make run`, which can keep running), floating pool `public`
   of 198.51.100.0/27 on the dummy link cptfip0, resizes allowed to the same (only) host;
3. the admin from `manage.py bootstrap`, the project's test image and two small flavors;
   etc/tempest.conf written from what the cloud answers (catalog, version documents);
4. `tempest run` over tempest.api.{compute,image,volume,identity}, concurrency 2, minus
   conformance/skip.txt; counts printed; results in .cache/conformance-cloud/results.json;
5. the cloud stopped and its traces removed (processes, guests, dnsmasq, bridge, floating link,
   iptables chains) even on failure or Ctrl-C.

Exit status: 0 only when no test failed. The host part holds /tmp/cloudproj-host.lock.
"""
import argparse
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
CLOUD_DIR = CACHE / "conformance-cloud"
TEMPEST_VENV = CACHE / "tempest-venv"
REQUIREMENTS = ROOT / "conformance" / "requirements.txt"
CONSTRAINTS = ROOT / "conformance" / "constraints.txt"  # tempest's dependencies as pip resolved them
SKIP_LIST = ROOT / "conformance" / "skip.txt"
TEST_IMAGE_DIR = CACHE / "conformance-testimage"  # kept between runs: the build is cached there
HOST_LOCK = Path("/tmp/cloudproj-host.lock")

DATABASE = "cloudproj_conformance"
PG_SERVER = os.environ.get("CONFORMANCE_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("CONFORMANCE_REDIS", "redis://127.0.0.1:6379/12")
API_PORT, METADATA_PORT, FLOWER_PORT = "18774", "18775", "15555"
BRIDGE, FIXED_RANGE = "cptconf0", "10.250.0.0/24"
# the floating pool tempest allocates from (TEST-NET-2, unlike `make run`'s TEST-NET-3 range),
# its addresses on a dummy link of this run
FLOATING_POOL, FLOATING_RANGE, FLOATING_LINK = "public", "198.51.100.0/27", "cptfip0"
AGENT_HOST = "conformance"
INSTANCE_ID_START = 0x0C0F0000
SUITES = ("compute", "image", "volume", "identity")
CONCURRENCY = 2
FLAVORS = (("tempest.tiny", "42", 256, 1, 1), ("tempest.small", "84", 384, 1, 2))

# The cloud's settings for every process of this run (cloudproj/settings.py reads them).
CLOUD_ENV = {
    "CLOUD_DIR": str(CLOUD_DIR),
    "DATABASE_URL": f"{PG_SERVER}/{DATABASE}",
    "CELERY_BROKER_URL": REDIS_URL,
    "API_BIND": "127.0.0.1",
    "API_PORT": API_PORT,
    "METADATA_PORT": METADATA_PORT,
    "FLOWER_PORT": FLOWER_PORT,
    "PUBLIC_ENDPOINT": f"http://127.0.0.1:{API_PORT}",
    "CLOUD_HOST": AGENT_HOST,
    "CLOUD_NAME": "cpconf",  # its chains are its own: cloudproj/host/cloud.py
    "FLAT_NETWORK_BRIDGE": BRIDGE,
    "FIXED_RANGE": FIXED_RANGE,
    "FLOATING_INTERFACE": FLOATING_LINK,
    "DEFAULT_FLOATING_POOL": FLOATING_POOL,
    "VOLUME_EXPORT": "none",
    # one compute host: tempest's resize tests resize on it (Nova's allow_resize_to_same_host)
    "ALLOW_RESIZE_TO_SAME_HOST": "true",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(CLOUD_ENV)
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))
import run  # noqa: E402  (scripts/run.py, read after CLOUD_DIR is set: `make run`'s own steps)

from conformance import config  # noqa: E402


def say(message: str) -> None:
    print(f"[conformance] {message}", flush=True)


# --- tempest's venv ------------------------------------------------------------------------------


def ensure_tempest() -> str:
    """The venv is reused while conformance/requirements.txt and constraints.txt are unchanged."""
    marker = TEMPEST_VENV / ".requirements.sha1"
    wanted = hashlib.sha1(REQUIREMENTS.read_bytes() + CONSTRAINTS.read_bytes()).hexdigest()
    tempest = TEMPEST_VENV / "bin" / "tempest"
    if not (tempest.exists() and marker.exists() and marker.read_text().strip() == wanted):
        say(f"installing {REQUIREMENTS.read_text().strip()} into {TEMPEST_VENV}")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(TEMPEST_VENV)], check=True)
        pip = [str(TEMPEST_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-r", str(REQUIREMENTS), "-c", str(CONSTRAINTS)], check=True)
        marker.write_text(wanted + "\n")
    out = subprocess.run([str(tempest), "--version"], capture_output=True, text=True, check=True)
    return (out.stdout + out.stderr).strip()


# --- the private cloud ---------------------------------------------------------------------------


def psql(database: str, sql: str) -> str:
    out = subprocess.run(["psql", f"{PG_SERVER}/{database}", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                         capture_output=True, text=True, check=True)
    return out.stdout


def fresh_database() -> None:
    psql("postgres", f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    psql("postgres", f'CREATE DATABASE "{DATABASE}"')
    redis_db = REDIS_URL.rsplit("/", 1)[-1]
    subprocess.run(["redis-cli", "-n", redis_db, "flushdb"], capture_output=True, check=False)


class LoggingSupervisor(run.Supervisor):
    """run.Supervisor, each process's output in CLOUD_DIR/logs/<name>.log (tempest's own
    output is what the terminal shows)."""

    def start(self, name: str) -> None:
        logs = CLOUD_DIR / "logs"
        logs.mkdir(exist_ok=True)
        with open(logs / f"{name}.log", "a") as log:
            self.children[name] = subprocess.Popen(self.commands[name], cwd=ROOT, start_new_session=True,
                                                   stdout=log, stderr=subprocess.STDOUT)
        say(f"started {name} (pid {self.children[name].pid}, log {logs / (name + '.log')})")


def prepare_cloud() -> None:
    fresh_database()
    run.ensure_local_env()
    run.ensure_libvirt()
    say(f"migrating {DATABASE}")
    run.manage("migrate", "--noinput", "-v", "0")
    psql(DATABASE, f"SELECT setval(pg_get_serial_sequence('compute_instance', 'id'), {INSTANCE_ID_START}, false)")
    run.manage("bootstrap")
    say("building (cached) and registering the test image")
    run.manage("build_test_image", "--register", "--output", str(TEST_IMAGE_DIR))
    for name, flavorid, memory, vcpus, root_gb in FLAVORS:
        run.manage("flavor", "create", name, "--memory", str(memory), "--cpu", str(vcpus),
                   "--root_gb", str(root_gb), "--flavor", flavorid)
    # a dummy link holds the floating addresses (an empty bridge where the kernel has no dummy driver)
    if subprocess.run(["ip", "link", "add", FLOATING_LINK, "type", "dummy"], capture_output=True).returncode:
        subprocess.run(["ip", "link", "add", FLOATING_LINK, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "set", FLOATING_LINK, "up"], check=True)
    run.manage("floating", "create", f"--ip_range={FLOATING_RANGE}", "--pool", FLOATING_POOL)


def http_json(method: str, url: str, token: str | None = None, body: dict | None = None,
              timeout: float = 10) -> tuple[int, dict, Any]:
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["X-Auth-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status, hdrs = response.read(), response.status, response.headers
    except urllib.error.HTTPError as exc:
        raw, status, hdrs = exc.read(), exc.code, exc.headers
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:
        payload = {}
    return status, payload, hdrs


def admin_token(base: str, password: str) -> tuple[str, list[dict]]:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "password": password, "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    status, payload, headers = http_json("POST", f"{base}/identity/v3/auth/tokens", body=body)
    if status != 201:
        raise RuntimeError(f"admin token: HTTP {status} {payload}")
    return headers.get("X-Subject-Token", ""), payload["token"].get("catalog", [])


def wait_for(what: str, check, timeout: float, supervisor) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, child in supervisor.children.items():
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited ({child.returncode}); see {CLOUD_DIR / 'logs' / (name + '.log')}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"timed out waiting for {what}")


def gather_facts(base: str, password: str, workspace: Path) -> config.CloudFacts:
    token, catalog = admin_token(base, password)
    types = {entry["type"] for entry in catalog}
    _s, compute_doc, _h = http_json("GET", f"{base}/compute/v2.1", token)
    compute_min, compute_max = config.version_range(compute_doc)
    _s, volume_doc, _h = http_json("GET", f"{base}/volume/", token)
    volume_min, volume_max = config.version_range(volume_doc)
    _s, image_doc, _h = http_json("GET", f"{base}/image/", token)
    image_versions = [v.get("id", "") for v in image_doc.get("versions", [])]
    _s, images, _h = http_json("GET", f"{base}/image/v2/images?limit=100", token)
    amis = [img["id"] for img in images.get("images", []) if img.get("disk_format") == "ami"]
    if not amis:
        raise RuntimeError(f"the test image is not registered: {images}")
    return config.CloudFacts(
        identity_uri_v3=f"{base}/identity/v3", admin_username="admin", admin_password=password,
        admin_project="admin", region=os.environ.get("CLOUD_REGION", "RegionOne"), catalog_types=types,
        compute_min_version=compute_min or "2.1", compute_max_version=compute_max or "2.1",
        image_versions=image_versions, volume_min_version=volume_min, volume_max_version=volume_max,
        image_ref=amis[0], image_ref_alt=amis[0], flavor_ref=FLAVORS[0][1], flavor_ref_alt=FLAVORS[1][1],
        fixed_network_name="private", log_file=str(workspace / "tempest.log"),
        lock_path=str(workspace / "locks"), floating_network_name=FLOATING_POOL,
    )


def compute_up(base: str, password: str) -> bool:
    token, _catalog = admin_token(base, password)
    status, payload, _h = http_json("GET", f"{base}/compute/v2.1/os-services?binary=nova-compute", token)
    return status == 200 and any(s.get("state") == "up" for s in payload.get("services", []))


# --- clean-up ------------------------------------------------------------------------------------


def remove_guests() -> None:
    try:
        uuids = psql(DATABASE, "SELECT uuid FROM compute_instance").split()
    except subprocess.CalledProcessError:
        return
    for uuid in uuids:
        virsh = ["virsh", "-q", "-c", "qemu:///system"]
        subprocess.run([*virsh, "destroy", uuid], capture_output=True, check=False)
        subprocess.run([*virsh, "undefine", "--managed-save", uuid], capture_output=True, check=False)


def stop_dnsmasq() -> None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"dnsmasq") and any(str(CLOUD_DIR).encode() in arg for arg in argv):
            try:
                os.kill(int(proc.name), signal.SIGTERM)
            except ProcessLookupError:
                pass


def remove_iptables() -> None:
    """This run's chains and their jumps: everything named for CLOUD_NAME `cpconf` (the metadata
    chains, and the security-group and floating chains of the agent `conformance`), through
    `./manage.py host_teardown`, which touches no other cloud's rules (`make run`'s, the tests')."""
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "host_teardown", "--host", AGENT_HOST,
                    "--firewall", "remove"], cwd=ROOT, capture_output=True, check=False, timeout=120)


def clean_host() -> None:
    remove_guests()
    stop_dnsmasq()
    remove_iptables()
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, check=False)
    subprocess.run(["ip", "link", "del", FLOATING_LINK], capture_output=True, check=False)


# --- results -------------------------------------------------------------------------------------

SUBUNIT_TO_JSON = r"""
import json, sys
import subunit, testtools
results = []
def on_test(test):
    details = test["details"]
    text = ""
    for name in ("traceback", "reason"):
        if name in details:
            text += details[name].as_text()
    if len(text) > 8000:  # the head holds a schema violation, the tail the exception
        text = text[:4000] + "\n...\n" + text[-4000:]
    results.append({"id": test["id"], "status": test["status"], "details": text})
case = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
result = testtools.StreamToDict(on_test)
result.startTestRun(); case.run(result); result.stopTestRun()
json.dump(results, sys.stdout)
"""


def collect_results(workspace: Path) -> list[dict]:
    stestr = TEMPEST_VENV / "bin" / "stestr"
    subunit = subprocess.run([str(stestr), "last", "--subunit"], cwd=workspace, capture_output=True, check=False)
    out = subprocess.run([str(TEMPEST_VENV / "bin" / "python"), "-c", SUBUNIT_TO_JSON], input=subunit.stdout,
                         capture_output=True, check=True)
    return json.loads(out.stdout)


def count(results: list[dict]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for test in results:  # as tempest's Totals count: a skipped or failed class is one "setUpClass (...)" entry
        key = {"success": "passed", "fail": "failed", "skip": "skipped", "xfail": "passed",
               "uxsuccess": "failed"}.get(test["status"])
        if key:
            counts[key] += 1
    return counts


def run_tempest(argv: list[str], workspace: Path) -> None:
    """tempest and its stestr workers in a session of their own: on Ctrl-C or a failure here
    the whole group is stopped, no worker keeps running against a cloud being torn down."""
    proc = subprocess.Popen(argv, cwd=workspace, start_new_session=True)
    try:
        proc.wait()
    except BaseException:
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        raise


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regex", default=r"^tempest\.api\.(" + "|".join(SUITES) + r")\.",
                        help="tests to run (default: the compute, image, volume and identity APIs)")
    parser.add_argument("--keep-cloud", action="store_true", help="leave the cloud running after tempest (debugging)")
    options = parser.parse_args()
    os.chdir(ROOT)
    entries = config.parse_skip_list(SKIP_LIST.read_text())  # refuse a bad skip list before anything starts
    version = ensure_tempest()
    say(f"tempest: {version}; {len(entries)} entries in {SKIP_LIST.relative_to(ROOT)}")
    CLOUD_DIR.mkdir(parents=True, exist_ok=True)
    host_lock = open(HOST_LOCK, "a")
    say(f"waiting for {HOST_LOCK}")
    fcntl.flock(host_lock, fcntl.LOCK_EX)
    run_lock = run.take_run_lock()  # noqa: F841 - one conformance cloud at a time
    supervisor = None

    def interrupted(*_args):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)  # also when a shell started us with SIGINT ignored
    status = 1
    try:
        clean_host()  # what a killed earlier run may have left
        prepare_cloud()
        table = run.process_table(AGENT_HOST, "127.0.0.1", API_PORT, FLOWER_PORT, "0.0.0.0", METADATA_PORT)
        del table["flower"]
        run.check_ports_free("127.0.0.1", API_PORT)
        run.check_ports_free("0.0.0.0", METADATA_PORT)
        supervisor = LoggingSupervisor(table)
        supervisor.start_all()
        base = CLOUD_ENV["PUBLIC_ENDPOINT"]
        password = (CLOUD_DIR / "admin-password").read_text().strip()
        wait_for("the API", lambda: http_json("GET", f"{base}/identity/v3")[0] == 200, 60, supervisor)
        wait_for("the compute agent", lambda: compute_up(base, password), 120, supervisor)

        workspace = CLOUD_DIR / "tempest"
        tempest = str(TEMPEST_VENV / "bin" / "tempest")
        subprocess.run(["rm", "-rf", str(workspace), str(CLOUD_DIR / "tempest-workspaces.yaml")], check=True)
        # a registry of its own (tempest's default, ~/.tempest/workspace.yaml, refuses a second `init`)
        subprocess.run([tempest, "init", "--workspace-path", str(CLOUD_DIR / "tempest-workspaces.yaml"),
                        "--name", f"conformance-{int(time.time())}", str(workspace)], check=True)
        facts = gather_facts(base, password, workspace)
        (workspace / "etc" / "tempest.conf").write_text(config.render_tempest_conf(facts))
        exclude = workspace / "exclude.txt"
        exclude.write_text(config.exclude_list_text(entries))
        say(f"compute {facts.compute_min_version}..{facts.compute_max_version}, volume "
            f"{facts.volume_min_version}..{facts.volume_max_version}, catalog: {', '.join(sorted(facts.catalog_types))}")
        say(f"tempest run --concurrency {CONCURRENCY} --regex '{options.regex}' (log {facts.log_file})")
        started = time.monotonic()
        run_tempest([tempest, "run", "--concurrency", str(CONCURRENCY), "--regex", options.regex,
                     "--exclude-list", str(exclude)], workspace)
        results = collect_results(workspace)
        (CLOUD_DIR / "results.json").write_text(json.dumps(results, indent=1))
        counts = count(results)
        say(f"{version}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped "
            f"in {time.monotonic() - started:.0f}s (details: {CLOUD_DIR / 'results.json'}, {facts.log_file})")
        status = 0 if counts["failed"] == 0 and counts["passed"] > 0 else 1
        if options.keep_cloud:
            say(f"cloud left running at {base} (Ctrl-C stops it)")
            supervisor.watch()
    except KeyboardInterrupt:
        say("interrupted")
        status = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if supervisor is not None:
            supervisor.stop_all()
        clean_host()
        say("cloud stopped, host cleaned")
    return status


if __name__ == "__main__":
    sys.exit(main())
