"""Agent start-up: a worker named `agent@<host>` sets up the metadata rules of every network
its host serves when it is ready, then re-checks them every NETWORK_SUPERVISE_INTERVAL
seconds (a network created later, a rule removed by hand, a bridge that went away)."""
from celery import signals
from django.conf import settings

from cloudproj.host.identity import agent_host
from network import periodic


@signals.worker_ready.connect(dispatch_uid="metadata.signals.worker_ready")
def on_worker_ready(sender=None, **kwargs):
    from .host import ensure_host_rules

    host = agent_host(sender)
    if host is None:
        return
    what = f"metadata rules of {host}"
    periodic.run_pass(what, ensure_host_rules, host)
    periodic.start(f"metadata:{host}", what, ensure_host_rules, settings.NETWORK_SUPERVISE_INTERVAL, host)


def on_worker_shutdown(sender=None, **kwargs):
    periodic.stop_all()
