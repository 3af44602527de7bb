"""Floating pools as the Networking API shows them: every pool is an external network
(`router:external`) named after the pool, with an id derived from the name, stable for the
life of the pool, so `openstack floating ip create <pool name or id>` works."""
import uuid

from . import ranges

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "cloudproj:floating-pool")


def pool_network_id(pool: str) -> str:
    """The external network id of floating pool `pool`."""
    return str(uuid.uuid5(_NAMESPACE, pool))


def external_networks() -> dict[str, str]:
    """{network id: pool name} for every pool that has addresses."""
    return {pool_network_id(pool): pool for pool in ranges.pools()}


def pool_of_network(network_id: str) -> str | None:
    """The pool an external network id stands for, or None."""
    return external_networks().get(str(network_id))
