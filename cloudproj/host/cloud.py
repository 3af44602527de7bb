"""Which cloud this process belongs to on a shared machine, and the names its host state gets.

Several clouds may share one machine's iptables, bridges and processes: `make run`, `make
conformance`, the test suite (and the test clouds it starts). Each has a CLOUD_NAME; every
chain a cloud writes is named for it, so one cloud's passes (which rewrite and prune their
own chains) and its teardown never touch another's:

    <name>-metadata, <name>-vlan                       chains named with the cloud's name
    cpsg-<h>..., cpfip-<h>-...                          h = host_digest(host): 6 hex digits of
                                                       sha1("<name>/<host>") (sha1(host) for
                                                       the default cloud `cloudproj`, the names
                                                       it always had), because the security
                                                       group chains already use iptables' 28
                                                       characters

`./manage.py host_teardown` (make run's stop, and its start after a killed run) runs the
`cloud_teardown` host hooks (cloudproj.host.hooks): each app removes its chains and processes
of this cloud; nothing of another cloud is named there.
"""
import hashlib
from dataclasses import dataclass, field

from django.conf import settings

DEFAULT_CLOUD_NAME = "cloudproj"


def name() -> str:
    """This process's CLOUD_NAME (validated by the settings)."""
    return str(settings.CLOUD_NAME)


def chain(suffix: str) -> str:
    """A chain named for this cloud: `<CLOUD_NAME>-<suffix>`."""
    return f"{name()}-{suffix}"


def host_digest(host: str) -> str:
    """6 hex digits naming `host`'s chains of this cloud (sha1(host) for the default cloud)."""
    key = host if name() == DEFAULT_CLOUD_NAME else f"{name()}/{host}"
    return hashlib.sha1(key.encode()).hexdigest()[:6]


@dataclass(frozen=True)
class Teardown:
    """What `./manage.py host_teardown` removes of this cloud on this machine.

    hosts     the hosts whose chains go (the agents of this machine: CLOUD_HOST and the
              simulated hosts of a test cloud)
    firewall  the security-group chains too (left while guests still run: they keep
              filtering a stopped cloud's guests, and the next agent start rewrites them)
    bridges   the bridges of the cloud's networks too (not an operator's bridge)
    """

    hosts: tuple[str, ...] = field(default_factory=tuple)
    firewall: bool = True
    bridges: bool = False
