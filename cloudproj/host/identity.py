"""Which host this process (or this worker thread) acts for.

An agent process is started for one host (`./manage.py agent --host H` or a Celery worker
named `agent@H`); every other process acts for settings.CLOUD_HOST. A simulated fleet
(`./manage.py agent --simulate N`) serves many hosts in one process: each worker thread acts
for the host whose queue delivered its task (`acting_for`, set around every task).
"""
import threading
from contextlib import contextmanager
from collections.abc import Iterator

from django.conf import settings

_state: dict[str, str | None] = {"host": None}
_thread = threading.local()


def current_host() -> str:
    """The host this thread acts for (a fleet's task), else the agent's --host, else
    settings.CLOUD_HOST."""
    return getattr(_thread, "host", None) or _state["host"] or settings.CLOUD_HOST


def set_current_host(host: str | None) -> None:
    """Called once when the agent of `host` starts in this process (None: back to CLOUD_HOST)."""
    _state["host"] = host


def set_thread_host(host: str | None) -> None:
    """This thread acts for `host` until set back to None (a fleet worker, per task)."""
    _thread.host = host


@contextmanager
def acting_for(host: str) -> Iterator[str]:
    """Within the block this thread acts for `host`; the previous host afterwards."""
    previous = getattr(_thread, "host", None)
    _thread.host = host
    try:
        yield host
    finally:
        _thread.host = previous


def agent_host(sender: object) -> str | None:
    """`host` for a worker (or consumer) named `agent@host`, else None."""
    hostname = getattr(sender, "hostname", None) or getattr(getattr(sender, "controller", None), "hostname", None)
    if not hostname:
        return None
    name, _, host = str(hostname).partition("@")
    return host if name == "agent" and host else None
