"""Real cloud processes for pipeline tests: a scheduler worker and host agents, each a
`./manage.py` subprocess on the test database and the real broker, each with its own
state folder (instances, image cache, dnsmasq files) like separate machines would have.

    cloud = Cloud(tmp_path, broker_url)
    cloud.start_scheduler(concurrency=1)
    cloud.start_agent("sim-1", LIBVIRT_URI="test:///<node.xml>")
    cloud.wait_up(["sim-1"])
    ...
    cloud.stop()      # SIGTERM then SIGKILL; logs stay in tmp_path for the failure report

The `broker_url` fixture skips a test without the real Redis broker; `cloud` is a Cloud on it.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from cloudproj import rpc
from cloudproj.celery import app
from compute.models import ComputeNode, Service
from compute.virt.simulated import node_xml  # noqa: F401 - the tests' host descriptions
from secgroups.services import host as secgroup_host

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Cloud:
    def __init__(self, tmp_path: Path, broker_url: str, **env):
        self.tmp_path = Path(tmp_path)
        # Host state lives outside pytest's 0700 temp root: dnsmasq drops root and must still
        # read its hosts file there (as under STATE_PATH in a real deployment).
        self.hosts_root = Path(tempfile.mkdtemp(prefix="cloudproj-hosts-"))
        os.chmod(self.hosts_root, 0o755)
        self.procs: dict[str, tuple[subprocess.Popen, Path]] = {}
        self.killed: list[tuple[str, Path]] = []
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url,
            "REPORT_INTERVAL": "1",
            "SERVICE_DOWN_TIME": str(settings.SERVICE_DOWN_TIME),
            "IMAGE_STORE_PATH": str(settings.IMAGE_STORE_PATH),
            "SCHEDULER_DRIVER": settings.SCHEDULER_DRIVER,
            **{key: str(value) for key, value in env.items()},
        }

    def state_path(self, host: str) -> Path:
        return self.hosts_root / host

    def _start(self, key: str, argv: list, env: dict, program: tuple = ("manage.py",)) -> subprocess.Popen:
        log = self.tmp_path / f"{key}.log"
        with open(log, "a") as out:
            proc = subprocess.Popen(
                [sys.executable, *program, *argv], cwd=ROOT, env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.procs[key] = (proc, log)
        return proc

    def start_scheduler(self, concurrency: int = 4, **env) -> subprocess.Popen:
        argv = ["scheduler", "--host", "sched", "--concurrency", str(concurrency)]
        return self._start("scheduler", argv, {**self.env, **{k: str(v) for k, v in env.items()}})

    def start_beat(self, **env) -> subprocess.Popen:
        """celery beat sending the periodic tasks of settings.CELERY_BEAT_SCHEDULE (from a
        schedule file: the database scheduler `make run` uses is not needed here)."""
        argv = ["beat", "-S", "celery.beat:PersistentScheduler", "-s", str(self.tmp_path / "beat-schedule"),
                "--loglevel", "INFO"]
        return self._start("beat", argv, {**self.env, **{k: str(v) for k, v in env.items()}},
                           program=("-m", "celery", "-A", "cloudproj"))

    def start_api(self, port: int, workers: int = 2, **env) -> str:
        """gunicorn cloudproj.wsgi on 127.0.0.1:`port` as `make run` starts it (prefork
        workers with threads); returns its base URL once it answers."""
        import urllib.error
        import urllib.request

        log = self.tmp_path / "api.log"
        argv = [str(Path(sys.executable).with_name("gunicorn")), "cloudproj.wsgi", "--config",
                "python:cloudproj.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--threads", "4", "--graceful-timeout", "5"]
        with open(log, "a") as out:
            proc = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **{k: str(v) for k, v in env.items()}},
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs["api"] = (proc, log)
        base = f"http://127.0.0.1:{port}"

        def answering():
            try:
                urllib.request.urlopen(base + "/", timeout=2)
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False
            return True

        self.wait(answering, 60, "the API to answer")
        return base

    def start_agent(self, host: str, concurrency: int = 4, **env) -> subprocess.Popen:
        state = self.state_path(host)
        state.mkdir(parents=True, exist_ok=True)
        full_env = {
            **self.env,
            "STATE_PATH": str(state),
            "INSTANCES_PATH": str(state / "instances"),
            "NETWORKS_PATH": str(state / "networks"),
            "LIBVIRT_URI": "test:///default",
            **{k: str(v) for k, v in env.items()},
        }
        argv = ["agent", "--host", host, "--concurrency", str(concurrency)]
        return self._start(f"agent-{host}", argv, full_env)

    def start_fleet(self, count: int, prefix: str = "sim-", concurrency: int = 4, memory_mb: int = 65536,
                    vcpus: int = 16, **env) -> list[str]:
        """`./manage.py agent --simulate count`: one process serving `count` simulated hosts
        (prefix00, prefix01, ...); returns their names."""
        from compute.fleet import host_names

        names = host_names(count, prefix)
        state = self.state_path(f"fleet-{prefix}")
        state.mkdir(parents=True, exist_ok=True)
        full_env = {**self.env, "STATE_PATH": str(state), "INSTANCES_PATH": str(state / "instances"),
                    "NETWORKS_PATH": str(state / "networks"), **{k: str(v) for k, v in env.items()}}
        argv = ["agent", "--simulate", str(count), "--prefix", prefix, "--concurrency", str(concurrency),
                "--host-memory-mb", str(memory_mb), "--host-vcpus", str(vcpus)]
        self._start(f"fleet-{names[0]}", argv, full_env)
        return names

    def kill(self, key: str, sig=signal.SIGKILL) -> None:
        """Kill a process on purpose (it no longer counts as alive; its log stays in logs())."""
        proc, log = self.procs.pop(key)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(20)
        self.killed.append((key, log))

    def logs(self, limit: int = 4000) -> str:
        parts = []
        for key, log in [*self.killed, *((k, log) for k, (_p, log) in self.procs.items())]:
            text = log.read_text(errors="replace") if log.exists() else ""
            parts.append(f"----- {key} -----\n{text[-limit:]}")
        return "\n".join(parts)

    def logs_of(self, key: str) -> str:
        """The whole log of one process (running or killed)."""
        logs = dict(self.killed)
        logs.update({k: log for k, (_p, log) in self.procs.items()})
        return logs[key].read_text(errors="replace") if key in logs and logs[key].exists() else ""

    def check_alive(self) -> None:
        for key, (proc, _log) in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{key} exited with {proc.returncode}\n{self.logs()}")

    def wait(self, predicate, timeout: float, what: str, interval: float = 0.25):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            self.check_alive()
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{self.logs()}")

    def wait_up(self, hosts, timeout: float = 60) -> None:
        def up():
            services = Service.objects.filter(host__in=list(hosts), binary="nova-compute")
            return (len([s for s in services if s.is_up]) == len(hosts)
                    and ComputeNode.objects.filter(host__in=list(hosts)).count() == len(hosts))

        self.wait(up, timeout, f"agents {', '.join(hosts)} to be up")

        def ready():  # its start-up recovery is over: it will not send this test's boots again
            return all(f"agent@{host} ready." in self.logs_of(f"agent-{host}") for host in hosts
                       if f"agent-{host}" in self.procs) and all(
                f"{key.replace('-', '@', 1)} ready." in self.logs_of(key) for key in self.procs
                if key.startswith("fleet-"))

        self.wait(ready, timeout, f"agents {', '.join(hosts)} to be ready")

    def call(self, host: str, task_name: str, *args, timeout: float = 30):
        """Run a task on `host`'s compute queue and return its result (the project's
        result backend, as the API's host calls do)."""
        return rpc.call(host, task_name, *args, timeout=timeout)

    def list_domains(self, host: str) -> list[dict]:
        return rpc.list_domains(host, timeout=30)

    def stop(self) -> None:
        for proc, _log in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc, _log in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        shutil.rmtree(self.hosts_root, ignore_errors=True)
        self._remove_host_firewall()

    def _remove_host_firewall(self) -> None:
        for key in [*self.procs, *(k for k, _log in self.killed)]:
            if key.startswith("agent-"):
                remove_host_firewall(key[len("agent-"):])


def remove_host_firewall(host: str) -> None:
    """A test agent's security-group chains (per host name) go with it: test hosts are not
    coming back, and their chains would pile up on this machine."""
    secgroup_host.teardown(host)


def redis_broker_or_skip() -> str:
    """The Redis broker URL, its database emptied of earlier runs' messages (skips without it)."""
    url = app.conf.broker_url
    if not url.startswith("redis://"):
        pytest.skip("needs the real Redis broker: CELERY_BROKER_URL=redis://...")
    import redis

    redis.Redis.from_url(url).flushdb()  # this test's broker database: no messages of earlier runs
    return url


def wait_for(predicate, timeout: float, what: str, proc=None, log=None):
    """predicate()'s first true result within `timeout` s (stops early when `proc` exits);
    the AssertionError shows the end of `log`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.25)
    detail = log.read_text()[-3000:] if log is not None and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{detail}")


@pytest.fixture
def broker_url():
    return redis_broker_or_skip()


@pytest.fixture
def cloud(broker_url, settings, tmp_path):
    """A Cloud on the Redis broker (no process started yet), stopped after the test."""
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.SERVICE_DOWN_TIME = 10
    cloud = Cloud(tmp_path, broker_url)
    yield cloud
    cloud.stop()
