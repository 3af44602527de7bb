"""The API + dashboard process as `make run` starts it (gunicorn, uvicorn worker, cloudproj.asgi)
on a free port, for tests that need the ASGI side (websockets): Django's live_server is WSGI."""
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from cloudproj.testing.cloud import database_url
from cloudproj.testing.real_guest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _answering(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@contextmanager
def asgi_api_server(log_dir: Path, **env):
    """Yields the server's base URL (http://127.0.0.1:<port>); stops it on exit."""
    port = free_port()
    argv = [str(Path(sys.executable).with_name("gunicorn")), "cloudproj.asgi:application",
            "--worker-class", "uvicorn_worker.UvicornWorker", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--access-logfile", "-", "--graceful-timeout", "5"]
    full_env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                **{key: str(value) for key, value in env.items()}}
    log = Path(log_dir) / "api-asgi.log"
    with open(log, "a") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answering(f"{base}/compute/"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the ASGI API server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
