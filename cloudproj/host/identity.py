"""Which host this process acts for.

An agent process is started for one host (`./manage.py agent --host H` or a Celery worker
named `agent@H`); every other process acts for settings.CLOUD_HOST.
"""
from django.conf import settings

_state: dict[str, str | None] = {"host": None}


def current_host() -> str:
    """The host this process acts for (the agent's --host, else settings.CLOUD_HOST)."""
    return _state["host"] or settings.CLOUD_HOST


def set_current_host(host: str | None) -> None:
    """Called once when the agent of `host` starts in this process (None: back to CLOUD_HOST)."""
    _state["host"] = host


def agent_host(sender: object) -> str | None:
    """`host` for a worker (or consumer) named `agent@host`, else None."""
    hostname = getattr(sender, "hostname", None) or getattr(getattr(sender, "controller", None), "hostname", None)
    if not hostname:
        return None
    name, _, host = str(hostname).partition("@")
    return host if name == "agent" and host else None
