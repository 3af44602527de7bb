"""This cloud's host state on this machine removed: `./manage.py host_teardown`, which `make
run` runs when it stops and when it starts (what a killed run left behind).

Only what is named for this cloud (CLOUD_NAME, cloudproj.host.cloud) goes: its dnsmasq
processes (pid files under its NETWORKS_PATH), its chains and their jumps, and on request its
networks' bridges. The apps do the work in their `cloud_teardown` host hooks.

Security-group chains stay while the cloud has guests on these hosts (libvirt keeps a stopped
cloud's guests running: removing their filter would leave them open); the next agent start
rewrites them from the DB.
"""
import logging

from django.conf import settings
from django.db import DatabaseError

from cloudproj.host import hooks as host_hooks
from cloudproj.host.cloud import Teardown
from compute.models import Instance, Service

log = logging.getLogger(__name__)

FIREWALL_CHOICES = ("auto", "remove", "keep")


def machine_hosts() -> tuple[str, ...]:
    """The hosts whose chains this machine may hold for this cloud: CLOUD_HOST and every
    host with a registered service (simulated hosts of a test cloud share one machine; a real
    host elsewhere has no chains here, and removing a chain that is not there changes nothing)."""
    hosts = {settings.CLOUD_HOST}
    try:
        hosts.update(Service.objects.values_list("host", flat=True).distinct())
    except DatabaseError as exc:  # the teardown still works on CLOUD_HOST
        log.warning("hosts of the services not read (%s); tearing down %s only", exc, settings.CLOUD_HOST)
    return tuple(sorted(hosts))


def guests_on(hosts) -> bool | None:
    """Whether the cloud has instances (not deleted) on `hosts`; None when the DB cannot tell."""
    try:
        return Instance.objects.filter(host__in=list(hosts)).exists()
    except DatabaseError:
        return None


def plan(hosts=(), firewall: str = "auto", bridges: bool = False) -> Teardown:
    """firewall: `remove` the security-group chains, `keep` them, or `auto`: remove them only
    when the DB says no instance is on these hosts."""
    if firewall not in FIREWALL_CHOICES:
        raise ValueError(f"firewall must be one of {FIREWALL_CHOICES}, not {firewall!r}")
    hosts = tuple(hosts) or machine_hosts()
    remove_firewall = firewall == "remove" or (firewall == "auto" and guests_on(hosts) is False)
    return Teardown(hosts=hosts, firewall=remove_firewall, bridges=bridges)


def teardown(teardown_plan: Teardown) -> dict:
    """Run every app's teardown; their reports merged (a failing one's entry says why)."""
    report = host_hooks.cloud_teardown(teardown_plan)
    log.info("cloud %s torn down on %s: %s", settings.CLOUD_NAME, ", ".join(teardown_plan.hosts), report)
    return report
