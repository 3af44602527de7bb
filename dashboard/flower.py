"""Where the admin's "Task monitor" link points: FLOWER_URL, or flower on this host's
FLOWER_PORT (what `make run` starts) when FLOWER_URL is empty."""
from django.conf import settings


def flower_url(request) -> str:
    if settings.FLOWER_URL:
        return settings.FLOWER_URL
    host = request.get_host()
    if host.startswith("["):  # [v6]:port
        hostname = host[: host.index("]") + 1]
    else:
        hostname = host.rsplit(":", 1)[0]
    return f"{request.scheme}://{hostname}:{settings.FLOWER_PORT}/"  # get_host() checked ALLOWED_HOSTS
