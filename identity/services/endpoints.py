"""Where clients reach this cloud: the base URL of the API and the URLs built on it."""
from django.conf import settings


def public_base_url() -> str:
    """The API's public base URL, e.g. `http://cloud.example.com:8774` (no trailing slash).

    settings.PUBLIC_ENDPOINT when set; otherwise the local API port on the loopback address.
    """
    endpoint = (getattr(settings, "PUBLIC_ENDPOINT", "") or "").strip()
    if endpoint:
        return endpoint.rstrip("/")
    return f"http://127.0.0.1:{getattr(settings, 'API_PORT', 8774)}"


def identity_url() -> str:
    """The Identity v3 endpoint clients authenticate against (OS_AUTH_URL)."""
    return f"{public_base_url()}/identity/v3"
