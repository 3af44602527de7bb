"""Lifecycle hooks of the host side: the apps register into them from AppConfig.ready, the
agent and the boot pipeline call them. The host boundary knows no app: compute, network,
secgroups, floating, metadata and volumes meet here instead of importing one another.

    register(after_network=fn)     fn(instance, host): once the instance has its fixed IPs,
                                   in the allocate_ip step (an error fails the step, which is
                                   rolled back and rescheduled)
    register(before_cleanup=fn)    fn(instance, host): when the instance's resources are torn
                                   down (delete, rollback), before its addresses are released;
                                   errors are logged and do not stop the teardown
    register(left_host=fn)         fn(instance, host): the instance lives on another host now (a
                                   cold migration or resize confirmed): what `host` holds for it
                                   goes, its addresses stay; errors are logged
    register(extra_disks=fn)       fn(instance) -> [disk dict, ...]: disks the domain must have
                                   besides its root disk (attached volumes)
    register(root_volume=fn)       fn(instance, prepare) -> disk dict | None: the volume the
                                   server boots from (block_device_mapping_v2), None if it
                                   boots from a local image disk; prepare=True (the build's
                                   disk step) waits until the volume is ready and attaches it
    register(agent_start=fn)       fn(host): when the agent of `host` is ready (networks
                                   re-created, chains rewritten, ...) and where the app starts
                                   its periodic passes (cloudproj.host.periodic); errors are
                                   logged and the next hook runs
    register(orphan_sweep=fn)      fn(host) -> {key: value}: the host's leftovers of deleted
                                   things removed (the periodic orphan cleanup); the entries
                                   join the cleanup's report
    register(cloud_teardown=fn)    fn(plan: cloudproj.host.cloud.Teardown) -> {key: value}: this
                                   cloud's chains and processes on this machine removed (make
                                   run's stop, and its start after a killed run:
                                   `./manage.py host_teardown`); never another cloud's

A hook is a callable or the dotted path of one ("secgroups.services.host.after_network"),
imported on its first call: registering from AppConfig.ready then loads no host code in
processes that never run the hook (the API). Every hook must be idempotent. Hooks run in
registration order.
"""
import logging
from typing import Any

from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

_hooks: dict[str, list[Any]] = {
    "after_network": [], "before_cleanup": [], "left_host": [], "extra_disks": [], "root_volume": [],
    "agent_start": [], "orphan_sweep": [],
    "cloud_teardown": [],
}


def register(**hooks: Any) -> None:
    """register(after_network=fn, before_cleanup=fn, ...): see the module docstring."""
    for kind, hook in hooks.items():
        if kind not in _hooks:
            raise TypeError(f"unknown host hook {kind!r}")
        if hook is not None and hook not in _hooks[kind]:
            _hooks[kind].append(hook)


def registered(kind: str) -> list[Any]:
    """The hooks of `kind`, dotted paths imported (and remembered) on the way."""
    hooks = _hooks[kind]
    for index, hook in enumerate(hooks):
        if isinstance(hook, str):
            hooks[index] = import_string(hook)
    return list(hooks)


def _name(hook: object) -> str:
    return str(getattr(hook, "__qualname__", hook))


def after_network(instance: Any, host: str) -> None:
    for hook in registered("after_network"):
        hook(instance, host)


def before_cleanup(instance: Any, host: str) -> None:
    for hook in registered("before_cleanup"):
        try:
            hook(instance, host)
        except Exception:  # teardown goes on; reconciliation catches leftovers
            log.exception("cleanup hook %s failed for instance %s on %s", _name(hook), instance.uuid, host)


def left_host(instance: Any, host: str) -> None:
    for hook in registered("left_host"):
        try:
            hook(instance, host)
        except Exception:  # periodic passes regenerate the host's state from the DB anyway
            log.exception("left_host hook %s failed for instance %s on %s", _name(hook), instance.uuid, host)


def extra_disks(instance: Any) -> list[dict[str, Any]]:
    disks: list[dict[str, Any]] = []
    for hook in registered("extra_disks"):
        disks.extend(hook(instance))
    return disks


def root_volume(instance: Any, prepare: bool = False) -> dict[str, Any] | None:
    for hook in registered("root_volume"):
        disk = hook(instance, prepare)
        if disk is not None:
            return disk
    return None


def agent_start(host: str) -> None:
    for hook in registered("agent_start"):
        try:
            hook(host)
        except Exception:  # the agent must still start
            log.exception("agent start hook %s failed on %s", _name(hook), host)


def orphan_sweeps(host: str) -> dict[str, Any]:
    """The entries of every registered orphan sweep's report, merged."""
    report: dict[str, Any] = {}
    for hook in registered("orphan_sweep"):
        report.update(hook(host))
    return report


def cloud_teardown(plan: Any) -> dict[str, Any]:
    """Every registered teardown run (one failing does not stop the others: its entry says
    why); their reports merged."""
    report: dict[str, Any] = {}
    for hook in registered("cloud_teardown"):
        try:
            report.update(hook(plan))
        except Exception as exc:  # noqa: BLE001 - the others still clean up (not root: iptables refuses)
            log.warning("cloud teardown hook %s failed: %s", _name(hook), exc)
            report[_name(hook)] = f"failed: {type(exc).__name__}: {exc}"
    return report
