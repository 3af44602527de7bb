"""PostgreSQL restarts under API load (a private cluster: the shared one serves other runs).
While it is down the API answers 503 with the OpenStack error envelope (never a 500, never a
hang), the dashboard a readable 503 page; once it is back the API answers by itself."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from cloudproj.testing.real_guest import free_port

from .private_services import PrivatePostgres

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
SERVERS = "/compute/v2.1/servers"


def _get(port, path, token="not-a-token"):
    # a session cookie: the dashboard looks the session up in the database
    headers = {"X-Auth-Token": token, "Cookie": "sessionid=0123456789abcdefghijklmnopqrstuv"}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def test_api_answers_503_while_postgresql_is_down_and_recovers(tmp_path):
    with PrivatePostgres(settings.DATABASES["default"]) as pg:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": pg.url, "DB_CONN_MAX_AGE": "60"}
        log = open(tmp_path / "api.log", "a")
        api = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "cloudproj.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "4", "--timeout", "60"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if _get(port, SERVERS)[0] == 401:
                        break
                except OSError:
                    pass
                time.sleep(0.5)
            status, body = _get(port, SERVERS)
            assert status == 401, body  # the token was looked up in the database: it is up

            answers, stop = [], threading.Event()

            def load():
                while not stop.is_set():
                    try:
                        answers.append(_get(port, SERVERS))
                    except OSError as exc:
                        answers.append((None, str(exc)))
                    time.sleep(0.05)

            workers = [threading.Thread(target=load, daemon=True) for _ in range(4)]
            for worker in workers:
                worker.start()
            time.sleep(1)
            pg.stop()
            time.sleep(3)
            status, body = _get(port, SERVERS)
            assert status == 503, body
            assert json.loads(body) == {"serviceUnavailable": {
                "code": 503, "message": "The database is unavailable; try again later."}}
            status, page = _get(port, "/dashboard/")
            assert status == 503 and "Service unavailable" in page and "<h1>" in page, page
            pg.start()
            deadline = time.monotonic() + 30
            while _get(port, SERVERS)[0] != 401:
                assert time.monotonic() < deadline, "the API did not recover after PostgreSQL came back"
                time.sleep(0.5)
            stop.set()
            for worker in workers:
                worker.join(40)

            statuses = {status for status, _body in answers}
            assert 503 in statuses and 401 in statuses, statuses
            assert statuses <= {401, 503}, [a for a in answers if a[0] not in (401, 503)][:3]
            for status, body in answers:
                if status == 503:
                    assert json.loads(body)["serviceUnavailable"]["code"] == 503
        finally:
            api.terminate()
            api.wait(20)
