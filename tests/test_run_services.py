"""`make run`'s choice of database and broker (scripts/run_services.py), without starting the
cloud: the non-root fallback runs as a real unprivileged user (nobody)."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import run_services  # noqa: E402 - scripts/ is not a package


def test_env_file_lines_are_set_and_removed_keeping_the_others(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("SECRET_KEY=abc\nDATABASE_URL=postgres://old\n")
    run_services.update_env_file(env_file, {"DATABASE_URL": "postgres://new", "CELERY_BROKER_URL": "redis://x"})
    assert env_file.read_text() == "SECRET_KEY=abc\nDATABASE_URL=postgres://new\nCELERY_BROKER_URL=redis://x\n"
    assert env_file.stat().st_mode & 0o077 == 0
    run_services.update_env_file(env_file, {"DATABASE_URL": None, "CELERY_BROKER_URL": None})
    assert env_file.read_text() == "SECRET_KEY=abc\n"


def _choose(cloud_dir: Path, conf: dict, user: str | None = None, env: dict | None = None):
    code = (
        "import os, sys, json; sys.path.insert(0, 'scripts'); import run_services; from pathlib import Path;"
        f"s = run_services.start_private_services(Path({str(cloud_dir)!r}), {conf!r});"
        "print(json.dumps({'servers': [x.name for x in s.servers],"
        " 'env': {k: os.environ.get(k) for k in run_services.ENV_KEYS}}))"
    )
    base = {k: v for k, v in os.environ.items() if k not in run_services.ENV_KEYS}
    # the fallback path needs no third-party module: the system's python3 for nobody (the
    # project's interpreter may live under /root)
    python = "/usr/bin/python3" if user else sys.executable
    return subprocess.run([python, "-c", code], cwd=ROOT, env={**base, **(env or {})}, user=user,
                          capture_output=True, text=True, timeout=60)


def test_not_root_falls_back_to_sqlite_and_the_filesystem_broker_with_a_warning(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("runs the fallback as the user nobody, which takes root")
    cloud_dir = tmp_path / "cloud"
    cloud_dir.mkdir()
    (cloud_dir / "env").write_text("SECRET_KEY=x\nDATABASE_URL=postgres://left-by-a-root-run\n")
    for path in (tmp_path, cloud_dir, cloud_dir / "env"):
        shutil.chown(path, "nobody")
    os.chmod(tmp_path, 0o755)
    for folder in tmp_path.parents:  # traverse-only up to /tmp (pytest-xdist nests one level more)
        if folder == Path(tempfile.gettempdir()) or folder == folder.parent:
            break
        folder.chmod(folder.stat().st_mode | 0o011)
    done = _choose(cloud_dir, {"RUN_PRIVATE_SERVICES": "True", "RUN_POSTGRES_PORT": "1", "RUN_REDIS_PORT": "1"},
                   user="nobody")
    assert done.returncode == 0, done.stderr
    assert "WARNING: not root: no private PostgreSQL and Redis" in done.stdout
    assert '"servers": []' in done.stdout
    assert (cloud_dir / "env").read_text() == "SECRET_KEY=x\n"  # settings fall back to SQLite


def test_switched_off_or_given_urls_start_nothing(tmp_path):
    off = _choose(tmp_path, {"RUN_PRIVATE_SERVICES": "False", "RUN_POSTGRES_PORT": "1", "RUN_REDIS_PORT": "1"})
    assert off.returncode == 0, off.stderr
    assert "WARNING: RUN_PRIVATE_SERVICES is off" in off.stdout and '"servers": []' in off.stdout
    given = _choose(tmp_path, {"RUN_PRIVATE_SERVICES": "True", "RUN_POSTGRES_PORT": "1", "RUN_REDIS_PORT": "1"},
                    env={"DATABASE_URL": "postgres://elsewhere/db", "CELERY_BROKER_URL": "amqp://elsewhere//"})
    assert given.returncode == 0, given.stderr
    assert '"servers": []' in given.stdout and "WARNING" not in given.stdout
    assert '"DATABASE_URL": "postgres://elsewhere/db"' in given.stdout


def test_a_leftover_server_is_stopped_only_when_it_works_in_its_own_folder(tmp_path):
    """A server a killed run left behind is stopped before the new one starts; a pid file that
    now names another process (its folder differs: after a reboot) stops nothing."""
    ours, other = tmp_path / "ours", tmp_path / "other"
    ours.mkdir()
    other.mkdir()
    leftover = subprocess.Popen(["sleep", "60"], cwd=ours)
    unrelated = subprocess.Popen(["sleep", "60"], cwd=other)
    try:
        (other / "server.pid").write_text(f"{leftover.pid}\n")  # not working in `other`
        run_services._stop_leftover(other / "server.pid", "sleep", 15)
        assert leftover.poll() is None
        (ours / "server.pid").write_text(f"{leftover.pid}\n/some/data\n")
        run_services._stop_leftover(ours / "server.pid", "sleep", 15)
        assert leftover.wait(5) == -15
        assert unrelated.poll() is None
    finally:
        for proc in (leftover, unrelated):
            proc.kill()
            proc.wait()
