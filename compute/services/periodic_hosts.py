"""Beat-driven per-host reconciliation: beat sends `compute.fan_out_host_task(kind)` to the
`scheduler` queue at each kind's interval; the fan-out sends the host task to every live
compute host's queue.

Why beat + fan-out rather than a timer thread in each agent (as the network supervision
has): the intervals live in one place (settings, and django-celery-beat's tables where an
operator changes them in the admin), a down host gets no messages (nothing piles up in its
queue: each message also expires after one interval), and a pass runs as an ordinary task
of the agent, in its pool, beside the API's work. Disabled hosts are included: disabling
stops scheduling, not the guests that run there (Nova's periodic tasks run on them too).
"""
import logging

from django.conf import settings

from cloudproj import rpc

from ..models import Service

log = logging.getLogger(__name__)

# kind -> (the pass's send function, its interval setting)
HOST_TASKS = {
    "sync_power_states": (rpc.sync_power_states, "SYNC_POWER_STATE_INTERVAL"),
    "running_deleted": (rpc.running_deleted_instances, "RUNNING_DELETED_INTERVAL"),
    "network_orphans": (rpc.cleanup_network_orphans, "ORPHAN_CLEANUP_INTERVAL"),
}


def live_hosts() -> list[str]:
    services = Service.objects.filter(binary="nova-compute").order_by("host")
    return [service.host for service in services if service.is_up]


def fan_out(kind: str) -> list[str]:
    """Send the host task of `kind` to each live host; returns the hosts. A kind whose
    interval is 0 (off) sends nothing, even if an old beat entry still fires."""
    if kind not in HOST_TASKS:
        raise ValueError(f"unknown periodic host task {kind!r}; known: {', '.join(sorted(HOST_TASKS))}")
    send, setting = HOST_TASKS[kind]
    interval = float(getattr(settings, setting))
    if interval <= 0:
        log.info("%s is off (%s = 0)", kind, setting)
        return []
    hosts = live_hosts()
    for host in hosts:
        send(host, expires=interval)
    log.info("%s sent to %d host(s): %s", kind, len(hosts), ", ".join(hosts))
    return hosts
