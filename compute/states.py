"""The single source of truth for instance states (Nova's vm_states, task_states and
power_state), the API `status` derived from them and which action is allowed when.

- `vm_state`: the stable state the instance is in (building, active, stopped, ...).
- `task_state`: the transition in progress, or None.
- `power_state`: what the hypervisor last reported (an int, as in the API).

`api_status(vm_state, task_state)` is Nova's `_STATE_MAP` (nova/api/openstack/common.py).
`check_allowed(instance, action)` raises `InstanceInvalidState` (a 409 Conflict) with Nova's
wording: "Cannot 'pause' instance <uuid> while it is in vm_state stopped".
"""
from cloudproj.exceptions import Conflict, Invalid
from .virt.power_state import CRASHED, NOSTATE, RUNNING, SHUTDOWN
from .virt.power_state import PAUSED as PAUSED_POWER  # named apart from the vm_state "paused"
from .virt.power_state import STATE_NAMES as POWER_STATE_NAMES
from .virt.power_state import SUSPENDED as SUSPENDED_POWER

# --- vm_state --------------------------------------------------------------------------------

ACTIVE = "active"
BUILDING = "building"
PAUSED = "paused"
SUSPENDED = "suspended"
STOPPED = "stopped"
RESCUED = "rescued"
RESIZED = "resized"
SOFT_DELETED = "soft-delete"
DELETED = "deleted"
ERROR = "error"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"

VM_STATES = (
    ACTIVE, BUILDING, PAUSED, SUSPENDED, STOPPED, RESCUED, RESIZED, SOFT_DELETED, DELETED,
    ERROR, SHELVED, SHELVED_OFFLOADED,
)

ALLOW_SOFT_REBOOT = (ACTIVE,)
ALLOW_HARD_REBOOT = ALLOW_SOFT_REBOOT + (STOPPED, PAUSED, SUSPENDED, ERROR)


# --- task_state ------------------------------------------------------------------------------


class task:  # a namespace, used as states.task.REBOOTING
    SCHEDULING = "scheduling"
    BLOCK_DEVICE_MAPPING = "block_device_mapping"
    NETWORKING = "networking"
    SPAWNING = "spawning"
    IMAGE_SNAPSHOT = "image_snapshot"
    IMAGE_SNAPSHOT_PENDING = "image_snapshot_pending"
    IMAGE_PENDING_UPLOAD = "image_pending_upload"
    IMAGE_UPLOADING = "image_uploading"
    IMAGE_BACKUP = "image_backup"
    UPDATING_PASSWORD = "updating_password"
    RESIZE_PREP = "resize_prep"
    RESIZE_MIGRATING = "resize_migrating"
    RESIZE_MIGRATED = "resize_migrated"
    RESIZE_FINISH = "resize_finish"
    RESIZE_REVERTING = "resize_reverting"
    RESIZE_CONFIRMING = "resize_confirming"
    REBOOTING = "rebooting"
    REBOOT_PENDING = "reboot_pending"
    REBOOT_STARTED = "reboot_started"
    REBOOTING_HARD = "rebooting_hard"
    REBOOT_PENDING_HARD = "reboot_pending_hard"
    REBOOT_STARTED_HARD = "reboot_started_hard"
    PAUSING = "pausing"
    UNPAUSING = "unpausing"
    SUSPENDING = "suspending"
    RESUMING = "resuming"
    POWERING_OFF = "powering-off"
    POWERING_ON = "powering-on"
    RESCUING = "rescuing"
    UNRESCUING = "unrescuing"
    REBUILDING = "rebuilding"
    REBUILD_BLOCK_DEVICE_MAPPING = "rebuild_block_device_mapping"
    REBUILD_SPAWNING = "rebuild_spawning"
    MIGRATING = "migrating"
    DELETING = "deleting"
    SOFT_DELETING = "soft-deleting"
    RESTORING = "restoring"
    SHELVING = "shelving"
    SHELVING_IMAGE_PENDING_UPLOAD = "shelving_image_pending_upload"
    SHELVING_IMAGE_UPLOADING = "shelving_image_uploading"
    SHELVING_OFFLOADING = "shelving_offloading"
    UNSHELVING = "unshelving"


TASK_STATES = tuple(v for k, v in vars(task).items() if k.isupper())

SOFT_REBOOT_STATES = (task.REBOOTING, task.REBOOT_PENDING, task.REBOOT_STARTED)
HARD_REBOOT_STATES = (task.REBOOTING_HARD, task.REBOOT_PENDING_HARD, task.REBOOT_STARTED_HARD)
# task states a hard reboot may interrupt (Nova's task_states.ALLOW_REBOOT)
ALLOW_REBOOT = (
    None, *SOFT_REBOOT_STATES, *HARD_REBOOT_STATES, task.RESUMING, task.UNPAUSING, task.PAUSING,
    task.SUSPENDING,
)

# --- power_state -----------------------------------------------------------------------------

# The power-state numbers are defined once, in compute.virt.power_state (imported above).


class power:  # states.power.RUNNING, as nova.compute.power_state
    NOSTATE = NOSTATE
    RUNNING = RUNNING
    PAUSED = PAUSED_POWER
    SHUTDOWN = SHUTDOWN
    CRASHED = CRASHED
    SUSPENDED = SUSPENDED_POWER


POWER_STATES = tuple(POWER_STATE_NAMES)


def power_state_name(value) -> str:
    return POWER_STATE_NAMES.get(value, "pending" if value is None else f"unknown({value})")


# --- API status (Nova's _STATE_MAP) ----------------------------------------------------------

_RESIZE = {t: "RESIZE" for t in (task.RESIZE_PREP, task.RESIZE_MIGRATING, task.RESIZE_MIGRATED, task.RESIZE_FINISH)}
_REBUILD = {t: "REBUILD" for t in (task.REBUILDING, task.REBUILD_BLOCK_DEVICE_MAPPING, task.REBUILD_SPAWNING)}

STATE_MAP = {
    ACTIVE: {
        "default": "ACTIVE",
        **{t: "REBOOT" for t in SOFT_REBOOT_STATES},
        **{t: "HARD_REBOOT" for t in HARD_REBOOT_STATES},
        task.UPDATING_PASSWORD: "PASSWORD",
        **_REBUILD,
        task.MIGRATING: "MIGRATING",
        **_RESIZE,
    },
    BUILDING: {"default": "BUILD"},
    STOPPED: {"default": "SHUTOFF", **_RESIZE, **_REBUILD},
    RESIZED: {"default": "VERIFY_RESIZE", task.RESIZE_REVERTING: "REVERT_RESIZE"},
    PAUSED: {"default": "PAUSED", task.MIGRATING: "MIGRATING"},
    SUSPENDED: {"default": "SUSPENDED"},
    RESCUED: {"default": "RESCUE"},
    ERROR: {"default": "ERROR", **_REBUILD},
    DELETED: {"default": "DELETED"},
    SOFT_DELETED: {"default": "SOFT_DELETED"},
    SHELVED: {"default": "SHELVED"},
    SHELVED_OFFLOADED: {"default": "SHELVED_OFFLOADED"},
}

API_STATUSES = (
    "ACTIVE", "BUILD", "DELETED", "ERROR", "HARD_REBOOT", "MIGRATING", "PASSWORD", "PAUSED",
    "REBOOT", "REBUILD", "RESCUE", "RESIZE", "REVERT_RESIZE", "SHELVED", "SHELVED_OFFLOADED",
    "SHUTOFF", "SOFT_DELETED", "SUSPENDED", "UNKNOWN", "VERIFY_RESIZE",
)


def api_status(vm_state, task_state=None) -> str:
    """The API `status` of an instance (UNKNOWN for a vm_state Nova does not know)."""
    task_map = STATE_MAP.get(vm_state, {"default": "UNKNOWN"})
    return task_map.get(task_state, task_map["default"])


def states_for_status(status: str) -> tuple[list, list | None]:
    """The reverse, for `?status=` filters (Nova's `task_and_vm_state_from_status`):
    ([vm_states], [task_states]), task_states None when any task state matches."""
    status = (status or "").upper()
    vm_states, task_states = set(), set()
    for vm_state, task_map in STATE_MAP.items():
        for task_state, mapped in task_map.items():
            if mapped == status:
                vm_states.add(vm_state)
                task_states.add(task_state)
    if "default" in task_states:
        return sorted(vm_states), None
    return sorted(vm_states), sorted(task_states)


# --- which action is allowed when --------------------------------------------------------------

ANY = object()  # any state

# action -> (allowed vm_states or ANY, allowed task_states or ANY)
ALLOWED: dict[str, tuple] = {
    "reboot_soft": (ALLOW_SOFT_REBOOT, (None,)),
    "reboot_hard": (ALLOW_HARD_REBOOT, ALLOW_REBOOT),
    "stop": ((ACTIVE, ERROR), (None,)),
    "start": ((STOPPED,), (None,)),
    "pause": ((ACTIVE,), (None,)),
    "unpause": ((PAUSED,), (None,)),
    "suspend": ((ACTIVE,), (None,)),
    "resume": ((SUSPENDED,), (None,)),
    "rebuild": ((ACTIVE, STOPPED, ERROR), (None,)),
    # a delete with RECLAIM_INSTANCE_INTERVAL > 0 (others are deleted at once); restore undoes it
    "soft_delete": ((ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR), (None,)),
    "restore": ((SOFT_DELETED,), (None,)),
    "create_image": ((ACTIVE, STOPPED, PAUSED, SUSPENDED), (None,)),
    "delete": (ANY, ANY),
    "force_delete": (ANY, ANY),
    "get_console_output": ((ACTIVE, PAUSED, SUSPENDED, STOPPED, RESCUED, RESIZED, ERROR), ANY),
    "update": (ANY, ANY),
    "update_metadata": ((ACTIVE, PAUSED, SUSPENDED, STOPPED), (None,)),
    "lock": (ANY, ANY),
    "unlock": (ANY, ANY),
    "resize": ((ACTIVE, STOPPED), (None,)),
    "confirm_resize": ((RESIZED,), (None,)),
    "revert_resize": ((RESIZED,), (None,)),
    "migrate": ((ACTIVE, STOPPED), (None,)),
    "migrate_live": ((ACTIVE, PAUSED), (None,)),
    "evacuate": ((ACTIVE, STOPPED, ERROR), (None,)),
    "rescue": ((ACTIVE, STOPPED, ERROR), (None,)),
    "unrescue": ((RESCUED,), (None,)),
    "shelve": ((ACTIVE, STOPPED, PAUSED, SUSPENDED), (None,)),
    "shelveOffload": ((SHELVED,), (None,)),
    "unshelve": ((SHELVED, SHELVED_OFFLOADED), (None,)),
    "trigger_crash_dump": ((ACTIVE, PAUSED, RESCUED, RESIZED, ERROR), (None,)),
}
# actions a locked instance still allows to anyone (others need an admin)
LOCK_EXEMPT = {"get_console_output", "update", "lock", "unlock"}
# actions that need the instance to be on a host
NEEDS_HOST = {"get_console_output"}
ACTIONS = tuple(sorted({a for a in ALLOWED} | {"reboot"}))


class InstanceInvalidState(Conflict):
    """409: the action is not allowed in the instance's current state."""

    def __init__(self, message, action=None, attr=None, state=None):
        super().__init__(message)
        self.action, self.attr, self.state = action, attr, state


class InstanceLocked(Conflict):
    pass


class InstanceNotReady(Conflict):
    pass


def _action_key(action: str, reboot_type: str | None) -> str:
    if action == "reboot":
        kind = (reboot_type or "SOFT").upper()
        if kind not in ("SOFT", "HARD"):
            raise Invalid(f"Argument 'type' for reboot must be a string with value 'SOFT' or 'HARD', not {reboot_type!r}.")
        return f"reboot_{kind.lower()}"
    if action not in ALLOWED:
        raise KeyError(f"unknown instance action {action!r}")
    return action


def is_allowed(vm_state, task_state, action: str, reboot_type: str | None = None) -> bool:
    vm_ok, task_ok = ALLOWED[_action_key(action, reboot_type)]
    return (vm_ok is ANY or vm_state in vm_ok) and (task_ok is ANY or task_state in task_ok)


def check_allowed(instance, action: str, reboot_type: str | None = None, is_admin: bool = False) -> None:
    """Raise a 409 unless `action` may run on `instance` now.

    action: reboot (with reboot_type SOFT/HARD), stop, start, pause, unpause, suspend,
    resume, rebuild, delete, force_delete, get_console_output, update, update_metadata.
    A locked instance refuses everything but reads/renames unless the caller is an admin."""
    key = _action_key(action, reboot_type)
    uuid = getattr(instance, "uuid", instance)
    if getattr(instance, "locked", False) and not is_admin and key not in LOCK_EXEMPT:
        raise InstanceLocked(f"Instance {uuid} is locked")
    vm_state = getattr(instance, "vm_state", None)
    task_state = getattr(instance, "task_state", None)
    if vm_state == DELETED and key not in ("delete", "force_delete"):
        raise InstanceInvalidState(
            f"Cannot '{action}' instance {uuid} while it is in vm_state {vm_state}", action, "vm_state", vm_state
        )
    vm_ok, task_ok = ALLOWED[key]
    if vm_ok is not ANY and vm_state not in vm_ok:
        raise InstanceInvalidState(
            f"Cannot '{action}' instance {uuid} while it is in vm_state {vm_state}", action, "vm_state", vm_state
        )
    if task_ok is not ANY and task_state not in task_ok:
        raise InstanceInvalidState(
            f"Cannot '{action}' instance {uuid} while it is in task_state {task_state}",
            action, "task_state", task_state,
        )
    if key in NEEDS_HOST and not getattr(instance, "host", None):
        raise InstanceNotReady(f"Instance {uuid} has not been scheduled to a host.")
