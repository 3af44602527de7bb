"""Agent start-up (the `agent_start` host hook): the agent of <host> sets up the metadata
rules of every network its host serves when it is ready, then re-checks them every
NETWORK_SUPERVISE_INTERVAL seconds (a network created later, a rule removed by hand, a
bridge that went away)."""
from django.conf import settings

from cloudproj.host import periodic

from .services.host import ensure_host_rules


def on_agent_start(host: str) -> None:
    what = f"metadata rules of {host}"
    periodic.run_pass(what, ensure_host_rules, host)
    periodic.start(f"metadata:{host}", what, ensure_host_rules, settings.NETWORK_SUPERVISE_INTERVAL, host)


def on_worker_shutdown(sender=None, **kwargs):
    periodic.stop_all()
