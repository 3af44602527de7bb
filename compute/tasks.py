"""Compute tasks (thin: they call compute.services). Imported by every worker, which
also wires agent registration/heartbeats through compute.agent's worker signals."""
from celery import shared_task

from cloudproj.celery import host_queue

from . import agent  # noqa: F401 - connects the worker_init/worker_shutdown handlers


@shared_task(name="compute.ping")
def ping(host: str | None = None) -> dict:
    """Answer with the host this worker acts for; proves per-host queue routing."""
    return {"host": agent.current_host(), "requested": host}


def send_ping(host: str, topic: str = "compute"):
    """Send `ping` to the queue only host `host`'s agent consumes; returns the AsyncResult."""
    return ping.apply_async(args=[host], queue=host_queue(topic, host))
