"""README command 1 end to end: `scripts/run.py` (what `make run` runs) brings the whole cloud
up, and the real `openstack` client and the operator CLI work against it unchanged. Three
variants: the default (as root: a private PostgreSQL and Redis of its own, supervised: a kill -9
of either with a boot in flight is survived), the embedded fallback (SQLite and the filesystem
broker, what a non-root run gets; RUN_PRIVATE_SERVICES=false here, the tests run as root), and
external services (DATABASE_URL / CELERY_BROKER_URL set: a PostgreSQL database and RabbitMQ).

The host agent talks to libvirt's `test:///default` hypervisor here so the test does not depend
on this machine's libvirtd; everything else (gunicorn, Celery workers, beat, flower) is real.
"""
import base64
import contextlib
import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
OPENSTACK = str(Path(PYTHON).with_name("openstack"))
HOST = "e2e-host"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@contextlib.contextmanager
def external_services(kind: str):
    """The private servers' ports for the default; the fallback for embedded; a fresh
    PostgreSQL database and RabbitMQ otherwise."""
    if kind == "private":
        yield {"RUN_POSTGRES_PORT": str(free_port()), "RUN_REDIS_PORT": str(free_port())}
        return
    if kind == "embedded":
        yield {"RUN_PRIVATE_SERVICES": "false"}
        return
    import psycopg2

    name = f"cloudproj_e2e_{os.getpid()}"
    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    yield {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
    }
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


@pytest.fixture(scope="module", params=["private", "embedded", "postgresql-rabbitmq"])
def cloud(request, tmp_path_factory):
    with external_services(request.param) as services:
        for running in _run_cloud(services, tmp_path_factory, private=request.param == "private"):
            running["kind"] = request.param
            yield running


_NETWORK_SEQ = iter(range(1, 100))


def _simulated_host(cloud_dir) -> str:
    """libvirt's test driver as an x86_64 host (the test image asks for x86_64)."""
    node = cloud_dir / "node.xml"
    node.write_text(
        "<node><cpu><mhz>2000</mhz><model>x86_64</model><active>4</active><nodes>1</nodes>"
        "<sockets>1</sockets><cores>4</cores><threads>1</threads></cpu><memory>4194304</memory></node>"
    )
    return f"test://{node}"


def _remove_bridge(bridge: str) -> None:
    subprocess.run(["pkill", "-f", f"dnsmasq.*--interface={bridge} "], check=False)
    subprocess.run(["ip", "link", "del", bridge], check=False, capture_output=True)


def _start(env, cloud_dir):
    log = open(cloud_dir / "run.log", "a")
    return subprocess.Popen([PYTHON, "scripts/run.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log


def _wait_api(proc, cloud_dir, base):
    def api_up():
        try:
            with urllib.request.urlopen(f"{base}/identity/v3", timeout=2) as response:
                return response.status == 200
        except OSError:
            return proc.poll() is not None and pytest.fail((cloud_dir / "run.log").read_text()[-3000:])

    wait_for(api_up, 180, "the API to answer")


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def _run_cloud(services, tmp_path_factory, private=False):
    if private:
        # as `make run` in a checkout: the postgres user reaches CLOUD_DIR (pytest's own
        # temporary folders are 0700 under /tmp/pytest-of-root)
        import tempfile

        cloud_dir = Path(tempfile.mkdtemp(prefix="cloudproj-run-", dir="/var/tmp"))
    else:
        cloud_dir = tmp_path_factory.mktemp("cloud")
    # the default network make run creates, on a bridge and range of its own (not br100)
    seq = next(_NETWORK_SEQ)
    bridge = f"cptrun{seq}"
    api_port, flower_port, metadata_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        CLOUD_DIR=str(cloud_dir),
        API_PORT=str(api_port),
        API_BIND="127.0.0.1",
        FLOWER_PORT=str(flower_port),
        METADATA_PORT=str(metadata_port),
        METADATA_BIND="127.0.0.1",
        CLOUD_HOST=HOST,
        LIBVIRT_URI=_simulated_host(cloud_dir),
        REPORT_INTERVAL="1",
        SERVICE_DOWN_TIME="6",
        FLAT_NETWORK_BRIDGE=bridge,
        FIXED_RANGE=f"10.234.{seq}.0/24",
        RUN_FLOATING_INTERFACE="",  # the default pool's addresses need no dummy link here (none is associated)
        **services,
    )
    proc, log = _start(env, cloud_dir)
    base = f"http://127.0.0.1:{api_port}"
    running = {"proc": proc, "env": env, "dir": cloud_dir, "base": base, "flower": flower_port,
               "metadata": metadata_port}
    try:
        _wait_api(proc, cloud_dir, base)
        yield running
    finally:
        _stop(running["proc"])
        log.close()
        _remove_bridge(bridge)
        _remove_host_rules(bridge)
        if private:
            import shutil

            shutil.rmtree(cloud_dir, ignore_errors=True)


def _remove_host_rules(bridge: str) -> None:
    """run.py's agent leaves its iptables chains when it stops (a real host keeps them for its
    next start); this test's host is not coming back."""
    from cloudproj.testing.cloud import remove_host_firewall
    from floating.linux import nat
    from floating.services.host import prefix_for
    from metadata.linux import iptables as metadata_iptables

    remove_host_firewall(HOST)
    nat.remove_rules(prefix_for(HOST))
    metadata_iptables.remove([bridge])


def osc(cloud, *args, check=True, json_output=True, openstack=OPENSTACK):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cloud["dir"]),
        "OS_CLIENT_CONFIG_FILE": str(cloud["dir"] / "clouds.yaml"),
        "OS_CLOUD": "cloudproj",
    }
    argv = [openstack, *args] + (["-f", "json"] if json_output else [])
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, f"openstack {' '.join(args)}: {proc.stderr}"
        return json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc


def manage(cloud, *args) -> str:
    proc = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=cloud["env"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def service_states(cloud) -> dict[str, str]:
    """{binary: ':-)' or 'XXX'} for this host, from `./manage.py service list`."""
    states = {}
    for line in manage(cloud, "service", "list").splitlines():
        fields = line.split()
        if HOST in fields and fields[0].startswith("nova-"):
            states[fields[0]] = ":-)" if ":-)" in fields else ("XXX" if "XXX" in fields else "?")
    return states


pytestmark = [pytest.mark.slow]


def test_credentials_are_written_private_and_generated(cloud):
    clouds = yaml.safe_load((cloud["dir"] / "clouds.yaml").read_text())
    auth = clouds["clouds"]["cloudproj"]["auth"]
    openrc = (cloud["dir"] / "openrc").read_text()
    assert auth["username"] == "admin" and len(auth["password"]) >= 16
    assert auth["password"] in openrc and f"{cloud['base']}/identity/v3" in openrc
    assert (cloud["dir"] / "openrc").stat().st_mode & 0o077 == 0
    # every secret of the cloud's directory is its owner's only
    for name in ("env", "openrc", "clouds.yaml", "admin-password", "flower-auth"):
        assert (cloud["dir"] / name).stat().st_mode & 0o777 == 0o600, name


def test_real_client_commands(cloud):
    token = osc(cloud, "token", "issue")
    assert token["id"] and token["project_id"] and token["user_id"]
    names = {flavor["Name"] for flavor in osc(cloud, "flavor", "list")}
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= names
    osc(cloud, "project", "create", "p2")
    osc(cloud, "user", "create", "--project", "p2", "--password", "x", "u2")
    osc(cloud, "role", "add", "--project", "p2", "--user", "u2", "member", json_output=False)
    assignments = osc(cloud, "role", "assignment", "list", "--project", "p2", "--names")
    assert [(a["Role"], a["User"]) for a in assignments] == [("member", "u2@Default")]
    wait_for(lambda: {"nova-compute", "nova-scheduler"} <= {s["Binary"] for s in osc(cloud, "compute", "service", "list")},
             60, "services")
    services = osc(cloud, "compute", "service", "list")
    compute = [s for s in services if s["Binary"] == "nova-compute"]
    assert compute and compute[0]["Host"] == HOST and compute[0]["State"] == "up"
    hypervisors = osc(cloud, "hypervisor", "list")
    assert [h["Hypervisor Hostname"] for h in hypervisors]
    quota = {row["Resource"]: row["Limit"] for row in osc(cloud, "quota", "show")}
    assert quota["instances"] == 10 and quota["cores"] == 20 and quota["volumes"] == 10
    limits = {row["Name"]: row["Value"] for row in osc(cloud, "limits", "show", "--absolute")}
    assert limits["max_total_instances"] == 10 and limits["max_total_volumes"] == 10


def test_agent_that_stops_heartbeating_shows_xxx_then_recovers(cloud):
    wait_for(lambda: service_states(cloud).get("nova-compute") == ":-)", 60, "agent up")
    agent_pids = [
        int(pid)
        for pid in subprocess.run(["pgrep", "-f", f"manage.py agent --host {HOST}"],
                                  capture_output=True, text=True).stdout.split()
    ]
    assert agent_pids
    for pid in agent_pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        states = wait_for(lambda: service_states(cloud).get("nova-compute") == "XXX" and service_states(cloud), 20, "XXX")
        assert states["nova-scheduler"] == ":-)"
    finally:
        for pid in agent_pids:
            os.kill(pid, signal.SIGCONT)
    wait_for(lambda: service_states(cloud).get("nova-compute") == ":-)", 30, "agent back up")


def test_boot_and_delete_a_server_with_the_real_client(cloud):
    """make run built and registered the test image and created the default network; the
    scheduler and the agent (a simulated hypervisor here) run the whole pipeline."""
    assert "cloudproj-test" in {image["Name"] for image in osc(cloud, "image", "list")}
    server = osc(cloud, "server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", "smoke")
    assert server["status"] == "ACTIVE"
    (address,) = osc(cloud, "server", "show", "smoke")["addresses"]["private"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(cloud["env"]["FIXED_RANGE"])
    events = osc(cloud, "server", "event", "list", "smoke")
    assert [e["Action"] for e in events] == ["create"]
    osc(cloud, "server", "delete", "--wait", "smoke", json_output=False)
    assert "smoke" not in {s["Name"] for s in osc(cloud, "server", "list")}


def test_servers_booted_and_deleted_together_all_go(cloud):
    """Three pipelines at once, then three deletes at once: with the embedded SQLite database a
    read-then-write transaction used to fail with "database is locked" and leave one in ERROR."""
    osc(cloud, "server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--min", "3", "--max", "3",
        "--wait", "many")
    servers = [s for s in osc(cloud, "server", "list") if s["Name"] == "many"]
    assert [s["Status"] for s in servers] == ["ACTIVE"] * 3
    osc(cloud, "server", "delete", "--wait", *[s["ID"] for s in servers], json_output=False)
    assert [s for s in osc(cloud, "server", "list") if s["Name"] == "many"] == []


def test_flower_and_admin_answer(cloud):
    """Flower listens on loopback only, and its pages want the generated credentials."""
    flower = f"http://127.0.0.1:{cloud['flower']}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{flower}/workers", timeout=5)
    assert refused.value.code == 401
    user, password = (cloud["dir"] / "flower-auth").read_text().strip().split(":", 1)
    assert user == "admin" and len(password) >= 16
    request = urllib.request.Request(f"{flower}/workers")
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    listening = subprocess.run(["ss", "-Hltn", f"sport = :{cloud['flower']}"], capture_output=True, text=True).stdout
    assert listening.split() and all(line.split()[3].startswith("127.0.0.1:") for line in listening.splitlines())
    # its password is not on any command line (ps shows those to every user)
    assert password not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    with urllib.request.urlopen(f"{cloud['base']}/admin/login/", timeout=5) as response:
        assert response.status == 200 and b"password" in response.read()


def test_an_idle_keep_alive_connection_is_still_served(cloud):
    """Clients reuse pooled connections between polls (`server delete --wait` every 2 s): the
    API must not close an idle one under them (gunicorn's 2-s default reset such a request)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(cloud["base"])
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        for _ in range(2):
            connection.request("GET", "/identity/v3")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            time.sleep(3)
    finally:
        connection.close()


def test_the_metadata_service_answers_on_its_own_port(cloud):
    """Its own URL space: the host is no instance (404), and the API's paths are not there."""
    for path in ("/latest/meta-data/instance-id", "/identity/v3"):
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"http://127.0.0.1:{cloud['metadata']}{path}", timeout=5)
        assert answer.value.code == 404


def test_the_default_floating_pool_serves_the_latest_client(cloud):
    """make run's pool `public` (TEST-NET-3, never this machine's 192.0.2.0/24): today's
    `openstack floating ip create public` works without any operator step."""
    from cloudproj.testing.latest_clients import ensure_latest_clients

    latest = str(ensure_latest_clients() / "openstack")
    assert "public" in manage(cloud, "floating", "list")
    created = osc(cloud, "floating", "ip", "create", "public", openstack=latest)
    address = ipaddress.ip_address(created["floating_ip_address"])
    assert address in ipaddress.ip_network("203.0.113.16/28") and created["status"] == "DOWN"
    assert [f["ID"] for f in osc(cloud, "floating", "ip", "list", openstack=latest)] == [created["id"]]
    osc(cloud, "floating", "ip", "delete", created["id"], json_output=False, openstack=latest)
    assert osc(cloud, "floating", "ip", "list", openstack=latest) == []


def _private_only(cloud):
    if cloud["kind"] != "private":
        pytest.skip("the private PostgreSQL and Redis of the default run")


def _private_db(cloud):
    import psycopg2

    url = next(line.split("=", 1)[1] for line in (cloud["dir"] / "env").read_text().splitlines()
               if line.startswith("DATABASE_URL="))
    return psycopg2.connect(url, connect_timeout=5)


def _run_children(cloud, pattern: str) -> list[int]:
    """Processes `pattern` among this run's own children (never another run's)."""
    out = subprocess.run(["pgrep", "-P", str(cloud["proc"].pid), "-f", pattern], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def test_the_default_run_starts_its_own_postgresql_and_redis(cloud):
    """Shown in its output, data under CLOUD_DIR, and the cloud really runs on them: the
    schema and the admin are in the private database, Celery's queues in the private Redis."""
    import redis

    _private_only(cloud)
    output = (cloud["dir"] / "run.log").read_text()
    pg_port, redis_port = cloud["env"]["RUN_POSTGRES_PORT"], cloud["env"]["RUN_REDIS_PORT"]
    assert f"PostgreSQL (private)  127.0.0.1:{pg_port}, database cloudproj" in output
    assert f"Redis (private)       127.0.0.1:{redis_port}" in output
    assert "WARNING" not in output.split("migrating the database")[0]
    assert (cloud["dir"] / "postgres" / "data" / "PG_VERSION").exists()
    assert (cloud["dir"] / "postgres").stat().st_uid == pwd_uid("postgres")
    assert list((cloud["dir"] / "redis").glob("appendonly*"))
    for secret in ("env", "postgres-password", "redis-password"):
        assert (cloud["dir"] / secret).stat().st_mode & 0o077 == 0
    with _private_db(cloud) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT username FROM identity_user WHERE username = 'admin'")
        assert cursor.fetchall() == [("admin",)]
    password = (cloud["dir"] / "redis-password").read_text().strip()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=int(redis_port)).ping()  # not open to every local user
    keys = redis.Redis(port=int(redis_port), password=password).keys("_kombu.binding.*")
    assert f"_kombu.binding.compute.{HOST}".encode() in keys


def pwd_uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid


@pytest.mark.parametrize("victim", ["postgresql", "redis"])
def test_kill_9_of_a_private_server_with_a_boot_in_flight_is_survived(cloud, victim):
    """The host agent is held (SIGSTOP) so the boot is scheduled and waiting for it: its next
    step's message in Redis, its state in PostgreSQL. Then the server is killed with -9; the
    supervisor restarts it, the agent goes on and the server reaches ACTIVE."""
    _private_only(cloud)
    name = f"inflight-{victim}"
    agents = _run_children(cloud, f"manage.py agent --host {HOST}")
    assert agents
    stopped = []
    try:
        for pid in agents:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        server = osc(cloud, "server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", name)
        wait_for(lambda: osc(cloud, "server", "show", name).get("OS-EXT-STS:task_state") == "networking",
                 30, "the boot to wait for the agent")
        pidfile = (cloud["dir"] / "postgres" / "data" / "postmaster.pid" if victim == "postgresql"
                   else cloud["dir"] / "redis" / "redis.pid")
        old = int(pidfile.read_text().split()[0])
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: f"{victim} exited with status -9; restarting" in (cloud["dir"] / "run.log").read_text(),
                 20, f"the supervisor to see {victim} die")
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)

    def status():
        shown = osc(cloud, "server", "show", server["id"], check=False)  # 503 while PostgreSQL restarts
        return shown.returncode == 0 and json.loads(shown.stdout)["status"]

    assert wait_for(lambda: status() in ("ACTIVE", "ERROR") and status(), 120, "the boot to finish") == "ACTIVE"
    new = int(pidfile.read_text().split()[0])
    assert new != old and os.path.exists(f"/proc/{new}")
    osc(cloud, "server", "delete", "--wait", server["id"], json_output=False)


def _child_pid(cloud, name: str) -> int:
    """The pid of the supervised process `name` (.cloud/pids/<name>: pid and start time)."""
    return int((cloud["dir"] / "pids" / name).read_text().split()[0])


def _one_of_each(cloud, server_id: str) -> dict:
    """The server's fixed IPs, claims and create actions in the private database."""
    with _private_db(cloud) as conn, conn.cursor() as cursor:
        counts = {}
        for what, sql in (("fixed ips", "SELECT count(*) FROM network_fixedip WHERE instance_uuid = %s"),
                          ("claims", "SELECT count(*) FROM compute_claim c JOIN compute_instance i"
                                     " ON c.instance_id = i.id WHERE i.uuid = %s"),
                          ("create actions", "SELECT count(*) FROM compute_instanceaction a JOIN compute_instance i"
                                             " ON a.instance_id = i.id WHERE i.uuid = %s AND a.action = 'create'")):
            cursor.execute(sql, [server_id])
            counts[what] = cursor.fetchone()[0]
    return counts


@pytest.mark.parametrize("victim", ["api", "scheduler", "agent", "beat"])
def test_kill_9_of_a_cloud_process_with_a_boot_in_flight_is_survived(cloud, victim):
    """The boot is held where the victim matters: waiting for the scheduler (SIGSTOP: its
    message may already sit in the stopped worker's socket, which a kill loses), or for the
    agent (the API and beat: the boot is in flight while they die). The victim is killed with
    -9; the supervisor kills what it left in its process group and starts it again, and the
    boot ends ACTIVE well before the reaper would resend it (BUILD_STEP_RESEND_AFTER, 300 s) or
    Redis would redeliver (BROKER_VISIBILITY_TIMEOUT, 900 s), with one address, one claim."""
    _private_only(cloud)
    name = f"kill-{victim}"
    held = "scheduler" if victim == "scheduler" else "agent"
    held_pid = _child_pid(cloud, held)
    log_size = (cloud["dir"] / "run.log").stat().st_size
    os.kill(held_pid, signal.SIGSTOP)
    try:
        server = osc(cloud, "server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", name)
        waiting_for = "scheduling" if held == "scheduler" else "networking"
        wait_for(lambda: osc(cloud, "server", "show", name).get("OS-EXT-STS:task_state") == waiting_for,
                 30, f"the boot to wait for the {held}")
        time.sleep(2)  # the held worker's consumer may take the message into its socket meanwhile
        old = _child_pid(cloud, victim)
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: f"{victim} exited with status -9; restarting" in
                 (cloud["dir"] / "run.log").read_text()[log_size:], 20, f"the supervisor to see {victim} die")
    finally:
        if victim != held:
            os.kill(held_pid, signal.SIGCONT)
    wait_for(lambda: _child_pid(cloud, victim) != old, 30, f"{victim} to be started again")

    def status():
        shown = osc(cloud, "server", "show", server["id"], check=False)  # refused while the API restarts
        return shown.returncode == 0 and json.loads(shown.stdout)["status"]

    assert wait_for(lambda: status() in ("ACTIVE", "ERROR") and status(), 120, "the boot to finish") == "ACTIVE"
    assert _one_of_each(cloud, server["id"]) == {"fixed ips": 1, "claims": 1, "create actions": 1}
    assert [e["Action"] for e in osc(cloud, "server", "event", "list", name)] == ["create"]
    assert os.path.exists(f"/proc/{_child_pid(cloud, victim)}")
    osc(cloud, "server", "delete", "--wait", server["id"], json_output=False)


def test_a_second_run_on_the_same_state_refuses_to_start(cloud):
    second = subprocess.run([PYTHON, "scripts/run.py"], cwd=ROOT, env=cloud["env"], capture_output=True, text=True, timeout=60)
    assert second.returncode != 0
    assert "already running" in second.stderr


def test_ctrl_c_stops_everything_and_a_second_run_reuses_the_credentials(cloud):
    password_before = (cloud["dir"] / "admin-password").read_text()
    proc = cloud["proc"]
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=40)
    leftovers = subprocess.run(["pgrep", "-f", f"agent --host {HOST}"], capture_output=True, text=True).stdout
    assert leftovers.strip() == ""
    # the clean stop took the cloud's host state with it: its dnsmasq and its chains
    stop_report = (cloud["dir"] / "run.log").read_text().rsplit("removing the dnsmasq processes", 1)[-1]
    if os.geteuid() == 0:  # it served the network with a dnsmasq of its own
        assert re.search(r"dnsmasq stopped: \d+", stop_report), stop_report[-2000:]
    networks = cloud["dir"] / "state" / "networks"
    dnsmasqs = subprocess.run(["pgrep", "-f", f"dnsmasq .*--pid-file={networks}/"], capture_output=True, text=True)
    assert dnsmasqs.stdout.strip() == ""
    name = cloud["env"]["CLOUD_NAME"]
    assert name != "cloudproj"  # this test's cloud is not a `make run` of the machine
    for table in ("nat", "filter") if os.geteuid() == 0 else ():
        listing = subprocess.run(["iptables", "-w", "-t", table, "-S"], capture_output=True, text=True).stdout
        assert f"{name}-metadata" not in listing
    if cloud["kind"] == "private":
        output = (cloud["dir"] / "run.log").read_text()
        assert output.rstrip().endswith("[cloudproj] stopped postgresql and redis")  # after the cloud's processes
        assert not (cloud["dir"] / "postgres" / "data" / "postmaster.pid").exists()  # a clean shutdown
        return  # the next test runs it again on the same cluster
    rerun = subprocess.run(
        [PYTHON, "manage.py", "bootstrap"], cwd=ROOT, env=cloud["env"], capture_output=True, text=True, timeout=60
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "generated" not in rerun.stdout
    assert (cloud["dir"] / "admin-password").read_text() == password_before



def test_the_next_run_reuses_the_private_cluster_and_its_data(cloud):
    """After Ctrl-C: `make run` again starts the same cluster (no second initdb) and Redis, and
    what the first run created is still there for the real client."""
    _private_only(cloud)
    assert cloud["proc"].poll() is not None
    log_size = (cloud["dir"] / "run.log").stat().st_size
    cloud["proc"], log = _start(cloud["env"], cloud["dir"])
    try:
        _wait_api(cloud["proc"], cloud["dir"], cloud["base"])
        output = (cloud["dir"] / "run.log").read_text()[log_size:]
        assert "PostgreSQL (private)" in output and "Redis (private)" in output
        assert "creating the private PostgreSQL cluster" not in output
        assert "p2" in {project["Name"] for project in osc(cloud, "project", "list")}
    finally:
        _stop(cloud["proc"])
        log.close()


def test_a_start_stops_the_children_a_killed_run_left(tmp_path):
    """`kill -9` of `make run` leaves its children (own sessions) running: the next start stops
    those it recorded in .cloud/pids/ (by pid and start time), and only those."""
    code = (
        "import subprocess, sys, time; sys.path.insert(0, 'scripts'); import run\n"
        "run.CLOUD_DIR.mkdir(exist_ok=True)\n"
        "child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "run.record_child('agent', child.pid)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    env = {**os.environ, "CLOUD_DIR": str(tmp_path)}
    killed_run = subprocess.Popen([PYTHON, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    left = int(killed_run.stdout.readline())
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)
    (tmp_path / "pids" / "reused").write_text(f"{bystander.pid} 1\n")  # its pid, another process's start
    try:
        killed_run.kill()
        killed_run.wait(10)
        assert Path(f"/proc/{left}").exists()  # the killed run's child lives on
        sweep = ("import sys; sys.path.insert(0, 'scripts'); import run; "
                 "print(run.sweep_children())")
        out = subprocess.run([PYTHON, "-c", sweep], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert f"agent (pid {left})" in out.stdout and "reused" not in out.stdout, out.stderr
        assert bystander.poll() is None and list((tmp_path / "pids").iterdir()) == []
        wait_for(lambda: not Path(f"/proc/{left}").exists()
                 or Path(f"/proc/{left}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z", 10, "the child to go")
    finally:
        bystander.kill()  # (a `sleep 300` the sweep missed ends by itself)
        bystander.wait()
