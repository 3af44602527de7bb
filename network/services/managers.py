"""Which network manager this cloud runs (settings.NETWORK_MANAGER): flatdhcp, vlan or flat."""
from django.conf import settings

from . import InvalidNetwork

MANAGERS = ("flatdhcp", "vlan", "flat")


def manager() -> str:
    name = str(getattr(settings, "NETWORK_MANAGER", "flatdhcp") or "flatdhcp").strip().lower()
    name = name.rsplit(".", 1)[-1].replace("manager", "") or "flatdhcp"  # nova's class paths too
    if name not in MANAGERS:
        raise InvalidNetwork(f"NETWORK_MANAGER {name!r} is not one of {', '.join(MANAGERS)}")
    return name


def is_vlan() -> bool:
    return manager() == "vlan"
