"""Private copies of the shared services for the tests that restart them: the shared
PostgreSQL, Redis and RabbitMQ serve other test runs and must never be restarted.

    with PrivateRedis(tmp_path) as redis_srv:       redis_srv.url, .stop(), .start()
    with PrivatePostgres(tmp_path, schema_from=url) as pg:   pg.url, .stop(), .start()
"""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from cloudproj.testing.real_guest import free_port


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class PrivateRedis:
    """redis-server on a free port, with an append-only file so that queued messages live
    through a restart (as a production broker must be run)."""

    def __init__(self, tmp_path: Path):
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed")
        self.dir = Path(tmp_path) / "redis"
        self.dir.mkdir(exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def _ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self):
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        log = open(self.dir / "redis.log", "a")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait(self._ping, 20, "the private redis-server to answer")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: redis flushes its append-only file and exits
            self.proc.wait(20)
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def _as_postgres(argv: list, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True,
                          text=True, **kwargs)


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb + pg_ctl as the postgres user, trust auth on
    127.0.0.1, a free port, a directory postgres owns), holding a copy of the schema of
    the test database (pg_dump --schema-only)."""

    def __init__(self, schema_from: dict):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not bins or shutil.which("runuser") is None:
            pytest.skip("needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) and runuser")
        self.bin = bins[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="cloudproj-pg-"))
        os.chmod(self.dir, 0o755)
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self.name = "cloudproj_private"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{self.name}"
        self.schema_from = schema_from

    def _ctl(self, *args):
        return _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
                             "-w", "-t", "60", *args])

    def start(self):
        self._ctl("-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def stop(self):
        self._ctl("-m", "fast", "stop")

    def __enter__(self):
        _as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"])
        self.start()
        src = self.schema_from
        dump = subprocess.run(
            ["pg_dump", "--schema-only", "--no-owner", "-h", src.get("HOST") or "127.0.0.1",
             "-p", str(src.get("PORT") or 5432), "-U", src.get("USER") or "postgres", src["NAME"]],
            check=True, capture_output=True, text=True, env={**os.environ, "PGPASSWORD": src.get("PASSWORD") or ""})
        psql = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-v", "ON_ERROR_STOP=0", "-q"]
        subprocess.run([*psql, "-c", f"CREATE DATABASE {self.name}"], check=True, capture_output=True)
        subprocess.run([*psql, "-d", self.name], input=dump.stdout, check=True, capture_output=True, text=True)
        return self

    def __exit__(self, *exc):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRabbitMQ:
    """A RabbitMQ node of its own (own node name, AMQP and distribution ports, mnesia and log
    directories, cookie in its own HOME, no plugins). Queues are durable and messages
    persistent (Celery's defaults), so queued boots live through a restart."""

    def __init__(self, tmp_path: Path):
        if shutil.which("rabbitmq-server") is None or shutil.which("rabbitmqctl") is None:
            pytest.skip("rabbitmq-server is not installed")
        self.dir = Path(tempfile.mkdtemp(prefix="cloudproj-rmq-"))
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"cptflt{self.port}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / ".erlang.cookie").write_text("cloudprojfaulttestcookie")
        os.chmod(self.dir / ".erlang.cookie", 0o400)
        self.env = {
            **os.environ, "HOME": str(self.dir), "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"), "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq"), "RABBITMQ_PID_FILE": str(self.dir / "pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        (self.dir / "rabbitmq.conf").write_text("loopback_users = none\n")
        # Debian's rabbitmq-server and rabbitmqctl run as the rabbitmq user when started by root
        for path in [self.dir, *self.dir.iterdir()]:
            shutil.chown(path, "rabbitmq", "rabbitmq")
        self.proc = None

    def _answers(self) -> bool:
        from kombu import Connection

        try:
            with Connection(self.url, connect_timeout=2) as conn:
                conn.connect()
            return True
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def start(self):
        log = open(self.dir / "server.log", "a")
        self.proc = subprocess.Popen(["rabbitmq-server"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _wait(lambda: self.proc.poll() is not None or self._answers(), 120,
              "the private RabbitMQ node to accept connections")
        if self.proc.poll() is not None:
            raise AssertionError(f"rabbitmq-server exited: {(self.dir / 'server.log').read_text()[-2000:]}")

    def stop(self):
        subprocess.run(["rabbitmqctl", "-n", self.node, "stop"], env=self.env, capture_output=True, timeout=120)
        if self.proc is not None:
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(20)
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
