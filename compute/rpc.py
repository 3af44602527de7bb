"""Sending compute work to the right queue, by task name (no import of the tasks module, so
services can send without import cycles). Messages carry ids only.

Sends happen after the current transaction commits: a worker never sees a message for
rows it cannot read yet, and a rolled-back request sends nothing.
"""
from django.db import transaction

from celery.exceptions import TimeoutError as CeleryTimeout
from kombu.exceptions import OperationalError as KombuOperationalError
from django.conf import settings

from cloudproj.celery import SCHEDULER_QUEUE, app, host_queue

from cloudproj.exceptions import ServiceUnavailable


def send(task_name: str, args: list, queue: str) -> None:
    transaction.on_commit(lambda: app.send_task(task_name, args=args, queue=queue))


def publish_now(task_name: str, args: list, queue: str = SCHEDULER_QUEUE) -> None:
    """Send at once (outside any transaction), waiting up to BROKER_PUBLISH_RETRY_TIMEOUT
    for a broker that is restarting. ServiceUnavailable (503) if it stays unreachable."""
    try:
        app.send_task(task_name, args=args, queue=queue)
    except (KombuOperationalError, OSError) as exc:
        raise ServiceUnavailable(
            f"The message queue is unavailable ({exc}); try again later."
        ) from exc


def to_scheduler(task_name: str, *args) -> None:
    send(task_name, list(args), SCHEDULER_QUEUE)


def to_host(host: str, task_name: str, *args) -> None:
    send(task_name, list(args), host_queue("compute", host))


def call(host: str, task_name: str, *args, timeout: float | None = None, topic: str = "compute"):
    """Ask `host`'s agent (on its `topic` queue) and wait for the answer (tasks with
    ignore_result=False only). ServiceUnavailable (503) when it does not answer in time
    (HOST_CALL_TIMEOUT)."""
    timeout = settings.HOST_CALL_TIMEOUT if timeout is None else timeout
    result = app.send_task(task_name, args=list(args), queue=host_queue(topic, host))
    try:
        return result.get(timeout=timeout, interval=0.1, propagate=True)
    except CeleryTimeout:
        result.revoke()
        raise ServiceUnavailable(f"Host {host} did not answer within {timeout:g} seconds; try again later.") from None
    finally:
        result.forget()
