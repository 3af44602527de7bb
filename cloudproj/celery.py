"""The Celery app: JSON messages carrying ids, late acks, and routing by queue.

Queues: `scheduler` (placement and orchestration) and, per hypervisor host H,
`compute.H`, `network.H`, `volume.H`. Only the agent of host H consumes those.
"""
import os

from celery import Celery

from cloudproj import broker_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudproj.settings")
broker_transport.register()

app = Celery("cloudproj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue="scheduler",
    task_create_missing_queues=True,
    broker_connection_retry_on_startup=True,
    # After a reconnect celery lowers the prefetch count and raises it again from the thread
    # that acks each task: with the threads pool several threads then send basic.qos on the
    # one AMQP connection at once and wait for each other's replies, and the worker hangs
    # until RabbitMQ drops it for missed heartbeats (minutes; seen with py-spy in the
    # broker-restart fault test). Prefetch is 1 per thread anyway.
    worker_enable_prefetch_count_reduction=False,
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    timezone="UTC",
    enable_utc=True,
)


def _publish_retry_policy() -> dict:
    """Publishing while the broker restarts waits for it, up to BROKER_PUBLISH_RETRY_TIMEOUT
    seconds (then kombu's OperationalError: the API answers 503, see cloudproj.rpc)."""
    from django.conf import settings

    bound = max(0.0, float(getattr(settings, "BROKER_PUBLISH_RETRY_TIMEOUT", 30.0)))
    return {"max_retries": int(bound), "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


app.conf.update(task_publish_retry=True, task_publish_retry_policy=_publish_retry_policy())
app.autodiscover_tasks()


def _ensure_filesystem_broker_folders():
    """kombu's filesystem transport expects its folders to exist."""
    options = app.conf.broker_transport_options or {}
    if str(app.conf.broker_url or "").startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
            if options.get(key):
                os.makedirs(options[key], exist_ok=True)


_ensure_filesystem_broker_folders()

SCHEDULER_QUEUE = "scheduler"
HOST_TOPICS = ("compute", "network", "volume")


def host_queue(topic: str, host: str) -> str:
    """The queue only host `host`'s agent consumes for `topic` (compute/network/volume)."""
    if topic not in HOST_TOPICS:
        raise ValueError(f"unknown topic {topic!r}")
    return f"{topic}.{host}"


def host_queues(host: str) -> list[str]:
    return [host_queue(topic, host) for topic in HOST_TOPICS]

from cloudproj.observability import celery_signals  # noqa: E402,F401 - connects the handlers
