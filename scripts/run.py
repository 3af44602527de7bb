#!/usr/bin/env python3
"""`make run`: the whole cloud on this machine, in the foreground, until Ctrl-C.

Prepares the host (libvirtd when root), migrates, seeds defaults and writes the admin's
credentials to .cloud/, then starts and supervises: the API + dashboard (gunicorn with
uvicorn workers: ASGI, for the VNC console's websockets), the metadata service (gunicorn
metadata.wsgi), the scheduler worker, one host agent for this machine, beat and flower. As root, a private
PostgreSQL and Redis of its own come first (scripts/run_services.py). A
process that dies is restarted. Environment variables (see cloudproj/settings.py) override
every default.

Host state: before starting, `./manage.py host_teardown` removes what a killed run of this
cloud (CLOUD_NAME) left (its dnsmasq processes, its chains); after a clean stop (Ctrl-C,
SIGTERM) it removes them again, security-group chains included when the cloud has no guest
left on this host. Flower listens on FLOWER_BIND (loopback) behind basic auth: the user and
password are in .cloud/flower-auth (0600), given to flower in its environment, never argv.
"""
import atexit
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import run_services

ROOT = Path(__file__).resolve().parent.parent
CLOUD_DIR = Path(os.environ.get("CLOUD_DIR", ROOT / ".cloud"))
PYTHON = sys.executable
BIN = Path(PYTHON).parent
RESTART_DELAY = 3.0
PIDS_DIR = CLOUD_DIR / "pids"
# what `openstack floating ip create` / POST /os-floating-ips without a pool use
os.environ.setdefault("DEFAULT_FLOATING_POOL", "public")


def say(message: str) -> None:
    print(f"[cloudproj] {message}", flush=True)


def ensure_local_env() -> None:
    """Keep a generated SECRET_KEY in .cloud/env so sessions and tokens survive restarts."""
    CLOUD_DIR.mkdir(exist_ok=True)
    # Traverse-only for others: dnsmasq drops root and re-reads its hosts file under state/.
    # The secrets in here (openrc, clouds.yaml, admin-password, env) are files of mode 0600.
    CLOUD_DIR.chmod(0o711)
    env_file = CLOUD_DIR / "env"
    if not env_file.exists():
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"SECRET_KEY={secrets.token_urlsafe(48)}\n")


def write_secret(path: Path, text: str) -> None:
    """A file only its owner can read (0600 from its creation: never readable in between)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(0o600)  # an older copy made with another mode


def flower_credentials() -> str:
    """`user:password` of flower's basic auth, generated once into .cloud/flower-auth (0600)."""
    path = CLOUD_DIR / "flower-auth"
    if path.exists():
        path.chmod(0o600)
        value = path.read_text().strip()
        if ":" in value:
            return value
    value = f"admin:{secrets.token_urlsafe(18)}"
    write_secret(path, value + "\n")
    return value


def secure_secrets() -> None:
    """Every secret of .cloud/ at mode 0600 (files an older version wrote with another mode)."""
    for name in ("env", "openrc", "clouds.yaml", "admin-password", "flower-auth"):
        path = CLOUD_DIR / name
        if path.is_file():
            path.chmod(0o600)


def host_teardown(when: str, firewall: str) -> None:
    """This cloud's dnsmasq processes and chains removed (`./manage.py host_teardown`)."""
    try:
        subprocess.run([PYTHON, str(ROOT / "manage.py"), "host_teardown", "--firewall", firewall],
                       cwd=ROOT, check=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        say(f"WARNING: the host state of this cloud could not be removed {when} ({exc}); "
            "run ./manage.py host_teardown")


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot): with its pid, who it is (pids are
    reused); None once it is gone or a zombie (exited, waiting for its reaper)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if len(fields) < 20 or fields[0] in ("Z", "X") else fields[19]


def record_child(name: str, pid: int) -> None:
    """.cloud/pids/<name>: the pid and start time of a supervised child (its process group)."""
    PIDS_DIR.mkdir(exist_ok=True)
    (PIDS_DIR / name).write_text(f"{pid} {_start_time(pid)}\n")


def sweep_children() -> list[str]:
    """The process groups of the children a killed `make run` left running (recorded in
    .cloud/pids/, the same process by pid and start time) stopped: SIGTERM, SIGKILL after 15 s."""
    found = []
    for path in sorted(PIDS_DIR.glob("*")) if PIDS_DIR.is_dir() else ():
        try:
            pid_text, started = path.read_text().split()
            pid = int(pid_text)
        except ValueError:
            path.unlink(missing_ok=True)
            continue
        if started != "None" and _start_time(pid) == started:
            found.append(f"{path.name} (pid {pid})")
            try:
                os.killpg(pid, signal.SIGTERM)
                deadline = time.time() + 15
                while _start_time(pid) == started and time.time() < deadline:
                    time.sleep(0.2)
                if _start_time(pid) == started:
                    os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        path.unlink(missing_ok=True)
    return found


def take_run_lock():
    """One `make run` per CLOUD_DIR: a second one would start a second agent for this host."""
    handle = open(CLOUD_DIR / "run.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        sys.exit(f"[cloudproj] already running from {CLOUD_DIR} (pid {holder}); stop it first (Ctrl-C)")
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def check_ports_free(bind: str, *ports: str) -> None:
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((bind, int(port)))
            except OSError as exc:
                sys.exit(f"[cloudproj] cannot listen on {bind}:{port} ({exc.strerror}); "
                         "set API_PORT / METADATA_PORT / FLOWER_PORT")


def ensure_libvirt() -> None:
    uri = os.environ.get("LIBVIRT_URI", "qemu:///system")
    if uri.startswith("qemu:///system") and os.geteuid() == 0:
        if subprocess.run(["bash", str(ROOT / "scripts" / "libvirt-up.sh")]).returncode != 0:
            say("WARNING: libvirtd could not be started; the host agent will report no capacity")


def _host_networks(link: str) -> list[str]:
    """The IPv4 networks this machine has addresses in or routes to (`ip -j`)."""
    found = []
    for argv in (["ip", "-j", "-4", "addr", "show"], ["ip", "-j", "-4", "route", "show", "table", "all"]):
        try:
            data = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout or "[]")
        except (OSError, ValueError, subprocess.CalledProcessError):
            continue
        for item in data:
            if link and link in (item.get("ifname"), item.get("dev")):
                continue  # the floating addresses the agent put there on an earlier run
            for info in item.get("addr_info", []):
                found.append(f"{info['local']}/{info.get('prefixlen', 32)}")
            dst = item.get("dst")
            if dst and dst != "default":
                found.append(dst if "/" in dst else f"{dst}/32")
    return found


def ensure_default_floating_pool() -> None:
    """First start: the pool DEFAULT_FLOATING_POOL (public) of RUN_FLOATING_RANGE (TEST-NET-3,
    never this kind of machine's own 192.0.2.0/24), its addresses on the link
    RUN_FLOATING_INTERFACE (root only; a dummy link, or an empty bridge where the kernel has no
    dummy driver), so `openstack floating ip create public` and `server add floating ip` work and
    the host reaches a guest through its floating address (the agent's nat OUTPUT rule). Never a
    range this machine's own network uses."""
    conf = read_settings("RUN_FLOATING_RANGE", "RUN_FLOATING_INTERFACE", "DEFAULT_FLOATING_POOL")
    if not conf["RUN_FLOATING_RANGE"]:
        return
    import ipaddress

    try:
        wanted = ipaddress.ip_network(conf["RUN_FLOATING_RANGE"])
    except ValueError as exc:
        say(f"WARNING: no default floating pool: RUN_FLOATING_RANGE: {exc}")
        return
    for net in _host_networks(conf["RUN_FLOATING_INTERFACE"]):
        try:
            used = ipaddress.ip_network(net, strict=False)
        except ValueError:
            continue
        if used.version == 4 and used.overlaps(wanted) and used.prefixlen > 0:
            say(f"WARNING: no default floating pool: {wanted} is in use on this machine ({used}); "
                "set RUN_FLOATING_RANGE")
            return
    interface = conf["RUN_FLOATING_INTERFACE"]
    if interface and os.geteuid() == 0:
        if subprocess.run(["ip", "link", "show", "dev", interface], capture_output=True).returncode != 0:
            # a dummy link holds the addresses; kernels without the dummy driver get an empty bridge
            if subprocess.run(["ip", "link", "add", interface, "type", "dummy"], capture_output=True).returncode:
                subprocess.run(["ip", "link", "add", interface, "type", "bridge"], check=False)
        subprocess.run(["ip", "link", "set", interface, "up"], check=False)
    elif interface:
        say(f"not root: the floating addresses go on FLOATING_INTERFACE instead of {interface}")
        interface = ""
    args = ["floating", "ensure", f"--ip_range={wanted}", "--pool", conf["DEFAULT_FLOATING_POOL"]]
    if interface:
        args += ["--interface", interface]
    try:
        manage(*args)
    except subprocess.CalledProcessError:
        say("WARNING: the default floating pool could not be created (see above)")


def manage(*args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], cwd=ROOT, check=True)


def read_settings(*names: str) -> dict[str, str]:
    code = f"import json; from django.conf import settings as s; print(json.dumps({{n: str(getattr(s, n)) for n in {names!r}}}))"
    out = subprocess.run(
        [PYTHON, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cloudproj.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def process_table(host: str, bind: str, port: str, flower_port: str,
                  metadata_bind: str = "0.0.0.0", metadata_port: str = "8775",
                  flower_bind: str = "127.0.0.1") -> dict[str, list[str]]:
    celery = str(BIN / "celery")
    return {
        "api": [
            str(BIN / "gunicorn"), "cloudproj.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker",
            "--config", "python:cloudproj.gunicorn_conf",
            "--bind", f"{bind}:{port}", "--workers", "2", "--graceful-timeout", "5",
        ],
        # nova-api-metadata: guests reach it at 169.254.169.254:80 (the agent's DNAT)
        "metadata": [
            str(BIN / "gunicorn"), "metadata.wsgi", "--bind", f"{metadata_bind}:{metadata_port}",
            "--workers", "2", "--threads", "4", "--access-logfile", "-", "--graceful-timeout", "5",
        ],
        "scheduler": [PYTHON, "manage.py", "scheduler"],
        "agent": [PYTHON, "manage.py", "agent", "--host", host],
        "beat": [
            celery, "-A", "cloudproj", "beat", "-S", "django_celery_beat.schedulers:DatabaseScheduler",
            "--pidfile=", "--loglevel", "INFO",
        ],
        "flower": [celery, "-A", "cloudproj", "flower", f"--port={flower_port}", f"--address={flower_bind}"],
    }


class Supervisor:
    def __init__(self, commands: dict[str, list[str]], envs: dict[str, dict[str, str]] | None = None):
        self.commands = commands
        self.envs = envs or {}
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self, name: str) -> None:
        env = {**os.environ, **self.envs[name]} if name in self.envs else None
        self.children[name] = subprocess.Popen(self.commands[name], cwd=ROOT, start_new_session=True, env=env)
        record_child(name, self.children[name].pid)
        say(f"started {name} (pid {self.children[name].pid})")

    def start_all(self) -> None:
        for name in self.commands:
            self.start(name)

    def watch(self) -> None:
        while not self.stopping:
            time.sleep(1)
            for name, child in list(self.children.items()):
                if child.poll() is not None and not self.stopping:
                    say(f"{name} exited with status {child.returncode}; restarting in {RESTART_DELAY:.0f}s")
                    self.kill_leftovers(name, child)
                    time.sleep(RESTART_DELAY)
                    if not self.stopping:
                        self.start(name)

    @staticmethod
    def kill_leftovers(name: str, child: subprocess.Popen) -> None:
        """What a dead child left in its process group (a killed gunicorn master's workers hold
        the API's port, a killed Celery worker's children its queues): killed before the restart."""
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        say(f"killed what {name} left running in its process group")

    def request_stop(self, *_args) -> None:
        self.stopping = True

    def stop_all(self) -> None:
        self.stopping = True
        for child in self.children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.time() + 15
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=5)
        for name in self.children:
            (PIDS_DIR / name).unlink(missing_ok=True)
        say("stopped")


def main() -> int:
    os.chdir(ROOT)
    ensure_local_env()
    lock = take_run_lock()  # noqa: F841 - held until this process exits
    left = sweep_children()  # a killed run's API, agent, ... would hold its ports and queues
    if left:
        say(f"stopped what a killed run left running: {', '.join(left)}")
    services = run_services.start_private_services(
        CLOUD_DIR, read_settings("RUN_PRIVATE_SERVICES", "RUN_POSTGRES_PORT", "RUN_REDIS_PORT"))
    atexit.register(services.stop)  # after the cloud's processes and the host teardown, however main ends
    ensure_libvirt()
    say("migrating the database")
    manage("migrate", "--noinput", "-v", "0")
    manage("bootstrap")
    ensure_default_floating_pool()
    say("building and registering the test image (cloudproj-test)")
    try:
        manage("build_test_image", "--register")
    except subprocess.CalledProcessError:
        say("WARNING: the test image could not be built (see above); register images with ./manage.py image register")
    conf = read_settings("CLOUD_HOST", "API_BIND", "API_PORT", "FLOWER_PORT", "PUBLIC_ENDPOINT",
                         "METADATA_BIND", "METADATA_PORT", "FLOWER_BIND", "CLOUD_NAME")
    host, bind, port, flower_port = conf["CLOUD_HOST"], conf["API_BIND"], conf["API_PORT"], conf["FLOWER_PORT"]
    metadata_bind, metadata_port = conf["METADATA_BIND"], conf["METADATA_PORT"]
    base = conf["PUBLIC_ENDPOINT"] or f"http://127.0.0.1:{port}"
    flower_bind = conf["FLOWER_BIND"]
    check_ports_free(bind, port)
    check_ports_free(flower_bind, flower_port)
    check_ports_free(metadata_bind, metadata_port)
    flower_auth = flower_credentials()
    secure_secrets()
    say(f"removing what an earlier run of cloud {conf['CLOUD_NAME']} left on this host")
    host_teardown("at start", firewall="keep")  # the agent rewrites the security-group chains

    supervisor = Supervisor(process_table(host, bind, port, flower_port, metadata_bind, metadata_port, flower_bind),
                            envs={"flower": {"FLOWER_BASIC_AUTH": flower_auth}})
    # Explicit handlers: a shell starting us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    supervisor.start_all()
    say("the cloud is up:")
    say(f"  dashboard + APIs   {base}/")
    say(f"  identity (auth)    {base}/identity/v3")
    say(f"  compute            {base}/compute/v2.1")
    say(f"  network            {base}/network  (floating pool {os.environ['DEFAULT_FLOATING_POOL']})")
    say(f"  Django admin       {base}/admin/   (user admin, password in .cloud/openrc)")
    say(f"  metadata service   http://169.254.169.254/ from guests ({metadata_bind}:{metadata_port} on the host)")
    say(f"  flower             http://{_url_host(flower_bind)}:{flower_port}/   "
        f"(user {flower_auth.split(':', 1)[0]}, password in {CLOUD_DIR / 'flower-auth'})")
    say(f"  credentials        {CLOUD_DIR / 'openrc'}  {CLOUD_DIR / 'clouds.yaml'}")
    say(f"  try: source .cloud/openrc && {shutil.which('openstack') or '.venv/bin/openstack'} flavor list")
    say("Ctrl-C stops everything")
    try:
        supervisor.watch()
    finally:
        supervisor.stop_all()
        say(f"removing the dnsmasq processes and iptables chains of cloud {conf['CLOUD_NAME']}")
        host_teardown("at stop", firewall="auto")
    return 0


def _url_host(bind: str) -> str:
    if bind in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{bind}]" if ":" in bind else bind


if __name__ == "__main__":
    sys.exit(main())
