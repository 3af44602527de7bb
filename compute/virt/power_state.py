"""Power states as Nova reports them, and the mapping from libvirt domain states.

These integers are what `Instance.power_state` stores and what the API shows as
`OS-EXT-STS:power_state`.
"""
NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7

STATE_NAMES = {
    NOSTATE: "pending",
    RUNNING: "running",
    PAUSED: "paused",
    SHUTDOWN: "shutdown",
    CRASHED: "crashed",
    SUSPENDED: "suspended",
}

# libvirt virDomainState values (kept numeric so this module imports without libvirt).
VIR_DOMAIN_NOSTATE = 0
VIR_DOMAIN_RUNNING = 1
VIR_DOMAIN_BLOCKED = 2
VIR_DOMAIN_PAUSED = 3
VIR_DOMAIN_SHUTDOWN = 4  # shutting down
VIR_DOMAIN_SHUTOFF = 5
VIR_DOMAIN_CRASHED = 6
VIR_DOMAIN_PMSUSPENDED = 7

LIBVIRT_POWER_STATE = {
    VIR_DOMAIN_NOSTATE: NOSTATE,
    VIR_DOMAIN_RUNNING: RUNNING,
    # a blocked domain is running, it just waits for I/O
    VIR_DOMAIN_BLOCKED: RUNNING,
    VIR_DOMAIN_PAUSED: PAUSED,
    # "shutting down" is still running from the user's point of view: Nova maps it to RUNNING
    VIR_DOMAIN_SHUTDOWN: RUNNING,
    VIR_DOMAIN_SHUTOFF: SHUTDOWN,
    VIR_DOMAIN_CRASHED: CRASHED,
    VIR_DOMAIN_PMSUSPENDED: SUSPENDED,
}


def from_libvirt(state: int, has_managed_save: bool = False) -> int:
    """Power state of a libvirt domain state; a shut-off domain with a managed-save image
    (our `suspend`) is SUSPENDED."""
    power = LIBVIRT_POWER_STATE.get(int(state), NOSTATE)
    if power == SHUTDOWN and has_managed_save:
        return SUSPENDED
    return power
