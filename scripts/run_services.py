"""`make run`'s own PostgreSQL and Redis: the one-command cloud runs on the production stack.

As root, `make run` starts a private PostgreSQL cluster (initdb'd once under CLOUD_DIR/postgres,
run as the `postgres` OS user, TCP on 127.0.0.1:RUN_POSTGRES_PORT only, no Unix socket,
password authentication with a generated password) and a private redis-server (CLOUD_DIR/redis,
127.0.0.1:RUN_REDIS_PORT, a generated password, an append-only file so that queued messages
live through a kill -9), before the cloud's processes. Both are supervised (restarted when they
die), reused by the next run, and stopped after the cloud's processes. DATABASE_URL and
CELERY_BROKER_URL are exported to the children and written to CLOUD_DIR/env (0600), so
`./manage.py ...` reaches the same database.

A DATABASE_URL or CELERY_BROKER_URL set in the environment wins (no private server for it).
Not root, or RUN_PRIVATE_SERVICES=false: the embedded fallback, SQLite and the filesystem
broker, with a warning.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import quote

RESTART_DELAY = 2.0
DB_NAME = "cloudproj"
DB_USER = "cloudproj"
PG_OS_USER = "postgres"
# when the postgres user cannot reach CLOUD_DIR (a checkout under /root, mode 0700)
FALLBACK_PG_ROOT = Path("/var/lib/cloudproj")
ENV_KEYS = ("DATABASE_URL", "CELERY_BROKER_URL")


def say(message: str) -> None:
    print(f"[cloudproj] {message}", flush=True)


def _secret(path: Path) -> str:
    """A generated password kept in `path` (0600), the same one on every run."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_hex(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _alive(pid: int, name: str, folder: Path) -> bool:
    """Process `pid` is a `name` server working in `folder` (both servers chdir to their data
    folder: a pid file that outlived a reboot may name an unrelated process now)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return name.encode() in cmdline and Path(cwd) == folder.resolve()


def _stop_leftover(pidfile: Path, name: str, sig: int) -> None:
    """A server a previous run left behind (that run was killed): this run holds run.lock, so
    nobody else uses it. Stop it cleanly so it can be started under supervision."""
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    folder = pidfile.parent
    if pid <= 1 or not _alive(pid, name, folder):
        return
    say(f"stopping the {name} a previous run left running (pid {pid})")
    os.kill(pid, sig)
    deadline = time.monotonic() + 60
    while _alive(pid, name, folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid, name, folder):
        os.kill(pid, signal.SIGKILL)


def update_env_file(env_file: Path, values: dict[str, str | None]) -> None:
    """Set (or, for None, remove) KEY=value lines of CLOUD_DIR/env, keeping the others."""
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    kept = [line for line in lines if line.split("=", 1)[0] not in values]
    kept += [f"{key}={value}" for key, value in values.items() if value is not None]
    temporary = env_file.with_name(env_file.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(line + "\n" for line in kept))
    os.replace(temporary, env_file)


class Server:
    """One supervised server process."""

    def __init__(self, name: str, argv: list[str], log: Path, ready, stop_signal: int,
                 user: str | None = None, cwd: Path | None = None):
        self.name, self.argv, self.log, self.ready = name, argv, log, ready
        self.stop_signal, self.user, self.cwd = stop_signal, user, cwd
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            kwargs = {}
            if self.user:
                kwargs = {"user": self.user, "group": self.user, "extra_groups": []}
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.cwd, start_new_session=True, **kwargs)
        say(f"started {self.name} (pid {self.proc.pid}, log {self.log})")

    def wait_ready(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            if self.ready():
                return True
            time.sleep(0.2)
        return False

    def stop(self, timeout: float = 30) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(self.stop_signal)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else None


def _can_reach(user: str, path: Path) -> bool:
    probe = subprocess.run(["test", "-x", str(path)], user=user, group=user, extra_groups=[], capture_output=True)
    return probe.returncode == 0


class PrivatePostgres:
    def __init__(self, cloud_dir: Path, port: int, bin_dir: Path):
        self.cloud_dir, self.port, self.bin = cloud_dir, port, bin_dir
        self.root = cloud_dir / "postgres"
        self.password = _secret(cloud_dir / "postgres-password")
        self.url = f"postgres://{DB_USER}:{quote(self.password)}@127.0.0.1:{port}/{DB_NAME}"

    def _prepare_root(self) -> None:
        if self.root.is_symlink() or self.root.exists():
            return
        if _can_reach(PG_OS_USER, self.cloud_dir):
            self.root.mkdir(mode=0o700)
        else:
            # initdb and postgres run as the postgres user, which cannot pass a parent of
            # CLOUD_DIR: the cluster lives beside the system's, reached through a link
            import hashlib

            key = hashlib.sha256(str(self.cloud_dir.resolve()).encode()).hexdigest()[:12]
            target = FALLBACK_PG_ROOT / f"postgres-{key}"
            FALLBACK_PG_ROOT.mkdir(mode=0o755, exist_ok=True)
            target.mkdir(mode=0o700, exist_ok=True)
            self.root.symlink_to(target)
            say(f"the postgres user cannot reach {self.cloud_dir}: the cluster is in {target} ({self.root} links there)")
        shutil.chown(self.root.resolve(), PG_OS_USER, PG_OS_USER)

    def initdb(self) -> None:
        self._prepare_root()
        data = self.root / "data"
        if (data / "PG_VERSION").exists():
            return
        say(f"creating the private PostgreSQL cluster in {self.root}")
        building = self.root / "data.initdb"
        if building.exists():
            shutil.rmtree(building)  # an initdb that was interrupted
        pwfile = self.root / "initdb-password"  # in the postgres user's own 0700 folder
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.password + "\n")
        shutil.chown(pwfile, PG_OS_USER, PG_OS_USER)
        try:
            subprocess.run(
                [str(self.bin / "initdb"), "-D", str(building), "-U", DB_USER, f"--pwfile={pwfile}",
                 "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
                text=True, check=True, capture_output=True,
                user=PG_OS_USER, group=PG_OS_USER, extra_groups=[], cwd="/",
            )
        finally:
            pwfile.unlink()
        building.rename(data)

    def server(self) -> Server:
        data = self.root / "data"
        _stop_leftover(data / "postmaster.pid", "postgres", signal.SIGINT)
        argv = [str(self.bin / "postgres"), "-D", str(data), "-c", f"port={self.port}",
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                "-c", "max_connections=200"]
        return Server("postgresql", argv, self.cloud_dir / "postgres.log", self.answers, signal.SIGINT,
                      user=PG_OS_USER, cwd=Path("/"))

    def _connect(self, dbname: str):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.port, user=DB_USER, password=self.password,
                                dbname=dbname, connect_timeout=2)

    def answers(self) -> bool:
        import psycopg2

        try:
            self._connect("postgres").close()
            return True
        except psycopg2.Error:
            return False

    def create_database(self) -> None:
        conn = self._connect("postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{DB_NAME}"')
        finally:
            conn.close()


class PrivateRedis:
    def __init__(self, cloud_dir: Path, port: int, binary: str):
        self.cloud_dir, self.port, self.binary = cloud_dir, port, binary
        self.dir = cloud_dir / "redis"
        self.password = _secret(cloud_dir / "redis-password")
        self.url = f"redis://:{self.password}@127.0.0.1:{port}/0"

    def server(self) -> Server:
        self.dir.mkdir(mode=0o700, exist_ok=True)
        if re.search(r'["\\\n\r]', str(self.dir)):
            raise ValueError(f"cannot put the path {self.dir!r} in redis.conf")
        conf = self.dir / "redis.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(
                "# written by scripts/run_services.py on every start\n"
                f"bind 127.0.0.1\nport {int(self.port)}\nprotected-mode yes\n"
                f'dir "{self.dir}"\npidfile "{self.dir / "redis.pid"}"\ndaemonize no\n'
                f"requirepass {self.password}\n"
                # every write reaches the append-only file before the next command is answered
                # (appendfsync everysec: the kernel has it, a kill -9 loses nothing)
                'appendonly yes\nappendfsync everysec\nsave ""\n'
            )
        _stop_leftover(self.dir / "redis.pid", "redis-server", signal.SIGTERM)
        return Server("redis", [self.binary, str(conf)], self.cloud_dir / "redis.log", self.answers, signal.SIGTERM)

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, password=self.password,
                                    socket_timeout=1).ping())
        except redis.RedisError:
            return False


class PrivateServices:
    """The supervised servers; `env` is what the cloud's processes get."""

    def __init__(self) -> None:
        self.servers: list[Server] = []
        self.env: dict[str, str] = {}
        self.stopping = threading.Event()
        self.watcher: threading.Thread | None = None

    def add(self, server: Server) -> None:
        server.start()
        if not server.wait_ready():
            raise RuntimeError(f"{server.name} did not start; see {server.log}")
        self.servers.append(server)

    def watch(self) -> None:
        while not self.stopping.wait(1):
            for server in self.servers:
                if server.proc is not None and server.proc.poll() is not None and not self.stopping.is_set():
                    say(f"{server.name} exited with status {server.proc.returncode}; restarting in {RESTART_DELAY:.0f}s")
                    if self.stopping.wait(RESTART_DELAY):
                        return
                    server.start()

    def start_watching(self) -> None:
        self.watcher = threading.Thread(target=self.watch, name="private-services", daemon=True)
        self.watcher.start()

    def stop(self) -> None:
        """After the cloud's processes: PostgreSQL's fast shutdown, Redis's SIGTERM (flushes)."""
        self.stopping.set()
        if self.watcher is not None:
            self.watcher.join(10)
        for server in reversed(self.servers):
            server.stop()
        if self.servers:
            say("stopped " + " and ".join(server.name for server in self.servers))
        self.servers = []


def start_private_services(cloud_dir: Path, conf: dict[str, str]) -> PrivateServices:
    """Starts what the configuration asks for and returns them supervised (see the module's
    docstring); exports DATABASE_URL / CELERY_BROKER_URL to this process's environment."""
    services = PrivateServices()
    env_file = cloud_dir / "env"
    wanted = conf.get("RUN_PRIVATE_SERVICES", "True") == "True"
    if not wanted or os.geteuid() != 0:
        why = "RUN_PRIVATE_SERVICES is off" if not wanted else "not root"
        if not (os.environ.get("DATABASE_URL") and os.environ.get("CELERY_BROKER_URL")):
            say(f"WARNING: {why}: no private PostgreSQL and Redis; the embedded fallback "
                "(SQLite and the filesystem broker) is for trying the cloud on one machine, not for production")
        update_env_file(env_file, dict.fromkeys(ENV_KEYS))
        return services
    values: dict[str, str | None] = dict.fromkeys(ENV_KEYS)
    try:
        if not os.environ.get("DATABASE_URL"):
            bin_dir = _postgres_bin()
            if bin_dir is None:
                raise RuntimeError("PostgreSQL's server is not installed (run `make host-packages` as root)")
            postgres = PrivatePostgres(cloud_dir, int(conf["RUN_POSTGRES_PORT"]), bin_dir)
            postgres.initdb()
            services.add(postgres.server())
            postgres.create_database()
            values["DATABASE_URL"] = postgres.url
            say(f"PostgreSQL (private)  127.0.0.1:{postgres.port}, database {DB_NAME}, data in {postgres.root}")
        if not os.environ.get("CELERY_BROKER_URL"):
            binary = shutil.which("redis-server")
            if binary is None:
                raise RuntimeError("redis-server is not installed (run `make host-packages` as root)")
            broker = PrivateRedis(cloud_dir, int(conf["RUN_REDIS_PORT"]), binary)
            services.add(broker.server())
            values["CELERY_BROKER_URL"] = broker.url
            say(f"Redis (private)       127.0.0.1:{broker.port}, append-only file in {broker.dir}")
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        services.stop()
        detail = exc.stderr if isinstance(exc, subprocess.CalledProcessError) and exc.stderr else ""
        raise SystemExit(f"[cloudproj] the private PostgreSQL/Redis could not be started: {exc} {detail}"
                         "\n[cloudproj] (RUN_PRIVATE_SERVICES=false runs on SQLite and the filesystem broker)") from exc
    os.environ.update({key: value for key, value in values.items() if value})
    update_env_file(env_file, values)
    services.start_watching()
    return services
