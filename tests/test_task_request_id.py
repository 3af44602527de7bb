"""A real round trip: a task published while an API request is served runs in a separate
scheduler worker process, whose log lines for that task carry the request's id, and whose
task metrics are served on METRICS_PORT."""
import urllib.request

import pytest

from cloudproj.celery import app
from cloudproj.middleware import current_request_id, new_request_id
from cloudproj.testing.real_guest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_worker_log_lines_of_a_task_carry_the_request_id_and_its_metrics_are_served(cloud):
    port = free_port()
    cloud.start_scheduler(concurrency=1, METRICS_PORT=port)
    request_id = new_request_id()
    token = current_request_id.set(request_id)
    try:
        app.send_task("identity.purge_expired_tokens", queue="scheduler")
    finally:
        current_request_id.reset(token)
    cloud.wait(lambda: "identity.purge_expired_tokens" in cloud.logs() and "succeeded" in cloud.logs(), 60,
               "the scheduler to run the task")
    lines = [line for line in cloud.logs(limit=100_000).splitlines() if "identity.purge_expired_tokens" in line]
    assert any(f"[{request_id}]" in line and "succeeded" in line for line in lines), "\n".join(lines)

    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    labels = 'host="sched",state="SUCCESS",task="identity.purge_expired_tokens"'
    assert f"cloudproj_task_duration_seconds_count{{{labels}}} 1.0" in body


def test_json_log_lines_carry_request_and_task_fields():
    import json
    import logging

    from cloudproj.middleware import RequestIdLogFilter
    from cloudproj.observability.logformat import JsonFormatter

    seen = []

    @app.task(name="obs.tests.logs", shared=False)
    def logs():
        record = logging.LogRecord("obs", logging.INFO, __file__, 1, "hello %s", ("there",), None)
        RequestIdLogFilter().filter(record)
        seen.append(json.loads(JsonFormatter().format(record)))

    logs.apply(headers={"request_id": "req-obs-3"}, task_id="obs-task-1")
    (entry,) = seen
    assert entry["request_id"] == "req-obs-3" and entry["message"] == "hello there"
    assert (entry["task"], entry["task_id"], entry["level"]) == ("obs.tests.logs", "obs-task-1", "INFO")
