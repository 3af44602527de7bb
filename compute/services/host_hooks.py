"""Extension points of the host side of the pipeline, for the apps that add to an
instance's networking (security groups, floating IPs, metadata).

    register(after_network=fn, before_cleanup=fn)   from an AppConfig.ready
    fn(instance, host)                              runs in the agent of `host`
    register(extra_disks=fn)                        fn(instance) -> [disk dict, ...]: disks the
                                                    domain must have besides its root disk
                                                    (attached volumes, see virt/volume_attach.py)

`after_network` runs in the allocate_ip step once the instance has its fixed IPs (an error
fails the step, which is rolled back and rescheduled). `before_cleanup` runs when the
instance's resources are torn down (delete, rollback), before its addresses are released;
errors are logged and do not stop the teardown. Both must be idempotent.
"""
import logging

log = logging.getLogger(__name__)

_after_network: list = []
_before_cleanup: list = []
_extra_disks: list = []


def register(after_network=None, before_cleanup=None, extra_disks=None) -> None:
    if extra_disks is not None and extra_disks not in _extra_disks:
        _extra_disks.append(extra_disks)
    if after_network is not None and after_network not in _after_network:
        _after_network.append(after_network)
    if before_cleanup is not None and before_cleanup not in _before_cleanup:
        _before_cleanup.append(before_cleanup)


def after_network(instance, host: str) -> None:
    for hook in list(_after_network):
        hook(instance, host)


def before_cleanup(instance, host: str) -> None:
    for hook in list(_before_cleanup):
        try:
            hook(instance, host)
        except Exception:  # teardown goes on; reconciliation catches leftovers
            log.exception("cleanup hook %s failed for instance %s on %s", getattr(hook, "__qualname__", hook),
                          instance.uuid, host)


def extra_disks(instance) -> list:
    disks = []
    for hook in list(_extra_disks):
        disks.extend(hook(instance))
    return disks
