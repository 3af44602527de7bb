"""What a host agent does for the metadata service: on every bridge of a network it serves,
guests reach 169.254.169.254:80 at METADATA_HOST (default: that network's gateway address on
the bridge) port METADATA_PORT. Regenerated from the DB; idempotent.

    rule_for(network)             the MetadataRule of one network
    ensure_host_rules(host)       every network `host` serves (agent start, periodic pass)
    after_network(instance, host) the networks of a new instance that `host` serves (host hook)
    on_agent_start(host)          every network `host` serves now and every
                                  NETWORK_SUPERVISE_INTERVAL seconds (a network created later,
                                  a rule removed by hand, a bridge that went away)
"""
import logging

from django.conf import settings

from cloudproj.host import periodic
from network.models import Network
from network.services import host as network_host
from network.services import serving as network_serving
from network.services.fixed_ips import fixed_ips_of_instance

from ..linux import iptables

log = logging.getLogger(__name__)


def rule_for(network: Network, host: str | None = None) -> iptables.MetadataRule:
    address = settings.METADATA_HOST or network_host.bridge_address(network, host)
    return iptables.MetadataRule(bridge=network.bridge, address=address, port=int(settings.METADATA_PORT))


def ensure_host_rules(host: str) -> dict:
    rules = [rule_for(network, host) for network in network_serving.served_networks(host)]
    changed = iptables.ensure(rules)
    if changed:
        log.info("metadata rules of %s: %s", host, ", ".join(f"{r.bridge}->{r.address}:{r.port}" for r in rules))
    return {"bridges": [rule.bridge for rule in rules], "changed": changed}


def after_network(instance, host: str) -> None:
    """Host hook: the metadata address works on the instance's networks served here (a network
    served by another host gets its rule from that host's agent)."""
    networks = {row.network_id: row.network for row in fixed_ips_of_instance(instance.uuid)}
    rules = [rule_for(network, host) for network in networks.values()
             if not network.is_deleted and network_serving.serving_host(network, host) == host]
    if rules:
        iptables.ensure(rules)


def on_agent_start(host: str) -> None:
    """Agent start-up (an `agent_start` host hook): the rules now, then re-checked periodically."""
    what = f"metadata rules of {host}"
    periodic.run_pass(what, ensure_host_rules, host)
    periodic.start(f"metadata:{host}", what, ensure_host_rules, settings.NETWORK_SUPERVISE_INTERVAL, host)


def teardown_cloud(plan) -> dict:
    """Cloud teardown (a `cloud_teardown` host hook): this cloud's metadata chains go."""
    return {"metadata chains": iptables.remove_chains()}
