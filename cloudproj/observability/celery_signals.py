"""Celery signal handlers: the request id travels with every task an API request causes, task
duration and failures are counted per task and host, and workers log in the project's format.

Connected when cloudproj.celery is imported, so in the API process (publishing) and in the
workers (running) alike.
"""
import logging
import logging.config
import threading
import time

from celery import signals

from cloudproj.middleware import current_request_id

from .metrics import TASK_DURATION, TASK_FAILURES

HEADER = "request_id"
_started: dict[str, float] = {}
_started_lock = threading.Lock()


@signals.before_task_publish.connect(dispatch_uid="cloudproj.observability.request_id_header")
def add_request_id_header(headers=None, **_kwargs):
    """Tasks published while serving a request (or running a task that has one) carry its id."""
    request_id = current_request_id.get()
    if headers is not None and request_id != "-":
        headers.setdefault(HEADER, request_id)


def _request_id_of(task, kwargs) -> str | None:
    # a worker puts custom message headers on the request itself, apply() under .headers
    request_id = getattr(task.request, HEADER, None) or (getattr(task.request, "headers", None) or {}).get(HEADER)
    if not request_id and kwargs:
        request_id = kwargs.get(HEADER)  # tasks of the boot pipeline also take it as an argument
    return request_id if isinstance(request_id, str) and request_id else None


def task_host(task) -> str:
    """The worker's host: the part after '@' of its node name (agent@HOST, scheduler@HOST)."""
    hostname = getattr(task.request, "hostname", None)
    if hostname:
        return hostname.split("@", 1)[-1]
    from django.conf import settings

    return settings.CLOUD_HOST


@signals.task_prerun.connect(dispatch_uid="cloudproj.observability.task_prerun")
def task_prerun(task_id=None, task=None, kwargs=None, **_kwargs):
    current_request_id.set(_request_id_of(task, kwargs) or "-")
    with _started_lock:
        _started[task_id] = time.perf_counter()


@signals.task_postrun.connect(dispatch_uid="cloudproj.observability.task_postrun")
def task_postrun(task_id=None, task=None, state=None, **_kwargs):
    with _started_lock:
        started = _started.pop(task_id, None)
    if started is not None:
        TASK_DURATION.labels(task.name, task_host(task), state or "UNKNOWN").observe(time.perf_counter() - started)
    current_request_id.set("-")


@signals.task_failure.connect(dispatch_uid="cloudproj.observability.task_failure")
def task_failure(sender=None, exception=None, **_kwargs):
    TASK_FAILURES.labels(sender.name, task_host(sender), type(exception).__name__).inc()


@signals.setup_logging.connect(dispatch_uid="cloudproj.observability.setup_logging")
def setup_logging(loglevel=None, **_kwargs):
    """Keep Django's LOGGING in workers (Celery would replace it), so lines carry the request id."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@signals.worker_init.connect(dispatch_uid="cloudproj.observability.metrics_server")
def start_metrics_server(**_kwargs):
    """METRICS_PORT > 0: this worker serves its task metrics at http://METRICS_BIND:PORT/metrics."""
    from django.conf import settings

    if settings.METRICS_PORT:
        from prometheus_client import start_http_server

        start_http_server(settings.METRICS_PORT, addr=settings.METRICS_BIND)
        logging.getLogger(__name__).info("task metrics on %s:%s", settings.METRICS_BIND, settings.METRICS_PORT)
