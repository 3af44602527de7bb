"""The one hostname sanitiser: an RFC 1123 label (ASCII letters, digits and inner hyphens,
at most 63 characters, lower case) from a display name, as Nova's utils.sanitize_hostname.
Used for the instance's hostname at create, the DHCP host entries and the guest's name."""
import re

MAX_LABEL = 63


def sanitize_hostname(name: str | None, fallback: str | None = None) -> str:
    """The label made from `name`; `fallback` (cut to 63) when nothing usable is left, else ""."""
    hostname = (name or "").encode("latin-1", "ignore").decode("latin-1")[:MAX_LABEL]
    hostname = re.sub(r"[ _.]", "-", hostname)
    hostname = re.sub(r"[^\w-]+", "", hostname, flags=re.ASCII)
    hostname = hostname.lower().strip("-")[:MAX_LABEL].rstrip("-")
    if not hostname and fallback is not None:
        return fallback[:MAX_LABEL]
    return hostname
