"""Messages waiting in the broker's queues, read without consuming anything.

Redis: LLEN of each queue's list (kombu keeps one list per priority step). RabbitMQ: a
passive queue_declare. kombu's filesystem transport: its message files. A broker that cannot
be reached raises BrokerUnavailable, so callers report it instead of failing.
"""
from pathlib import Path

from django.conf import settings

from cloudproj.celery import HOST_TOPICS, SCHEDULER_QUEUE, app, host_queue
from compute.models import Service
from compute.services.hosts import HOST_BINARIES

# kombu.transport.redis: queue "q" at priority p > 0 lives in the key "q\x06\x16p"
_REDIS_PRIORITY_SEP = "\x06\x16"
_REDIS_PRIORITY_STEPS = (0, 3, 6, 9)
TIMEOUT = 3.0


class BrokerUnavailable(Exception):
    pass


def known_queues() -> list[str]:
    """The scheduler queue and the per-host queues of every host running an agent."""
    hosts = sorted(set(Service.objects.filter(binary__in=HOST_BINARIES).values_list("host", flat=True)))
    return [SCHEDULER_QUEUE] + [host_queue(topic, host) for host in hosts for topic in HOST_TOPICS]


def broker_url() -> str:
    return str(app.conf.broker_url or "")


def queue_depths(queues: list[str] | None = None) -> dict[str, int]:
    queues = known_queues() if queues is None else queues
    url = broker_url()
    try:
        if url.startswith(("redis://", "rediss://")):
            return _redis_depths(url, queues)
        if url.startswith("filesystem://"):
            return _filesystem_depths(queues)
        return _amqp_depths(url, queues)
    except BrokerUnavailable:
        raise
    except Exception as exc:  # connection refused, timeouts, auth: all mean "cannot tell"
        raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc


def _redis_depths(url: str, queues: list[str]) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            for step in _REDIS_PRIORITY_STEPS:
                pipe.llen(queue if step == 0 else f"{queue}{_REDIS_PRIORITY_SEP}{step}")
        counts = pipe.execute()
    finally:
        client.close()
    steps = len(_REDIS_PRIORITY_STEPS)
    return {queue: sum(counts[i * steps:(i + 1) * steps]) for i, queue in enumerate(queues)}


def _filesystem_depths(queues: list[str]) -> dict[str, int]:
    folder = Path((app.conf.broker_transport_options or {}).get("data_folder_in", settings.BROKER_DATA_PATH))
    if not folder.is_dir():
        raise BrokerUnavailable(f"no broker folder {folder}")
    names = [entry.name for entry in folder.iterdir()]
    return {queue: sum(1 for name in names if name.endswith(f".{queue}.msg")) for queue in queues}


def _amqp_depths(url: str, queues: list[str]) -> dict[str, int]:
    from amqp.exceptions import NotFound

    depths = {}
    with app.connection_for_read(url) as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT)
        for queue in queues:
            channel = conn.channel()
            try:
                depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except NotFound:
                depths[queue] = 0  # never declared: nobody sent to it yet
            finally:
                try:
                    channel.close()
                except Exception:  # noqa: BLE001 - a failed passive declare already closed it
                    pass
    return depths
