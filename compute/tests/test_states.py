import pytest

from compute import states
from compute.states import api_status, check_allowed, task
from cloudproj.exceptions import Conflict


class Inst:
    def __init__(self, vm_state, task_state=None, locked=False, host="h1"):
        self.uuid = "u-1"
        self.vm_state, self.task_state, self.locked, self.host = vm_state, task_state, locked, host


@pytest.mark.parametrize(
    "vm_state,task_state,status",
    [
        ("active", None, "ACTIVE"),
        ("active", task.REBOOTING, "REBOOT"),
        ("active", task.REBOOT_PENDING, "REBOOT"),
        ("active", task.REBOOT_STARTED, "REBOOT"),
        ("active", task.REBOOTING_HARD, "HARD_REBOOT"),
        ("active", task.REBOOT_PENDING_HARD, "HARD_REBOOT"),
        ("active", task.REBOOT_STARTED_HARD, "HARD_REBOOT"),
        ("active", task.REBUILDING, "REBUILD"),
        ("active", task.REBUILD_SPAWNING, "REBUILD"),
        ("active", task.UPDATING_PASSWORD, "PASSWORD"),
        ("active", task.MIGRATING, "MIGRATING"),
        ("active", task.RESIZE_PREP, "RESIZE"),
        ("active", task.PAUSING, "ACTIVE"),
        ("active", task.POWERING_OFF, "ACTIVE"),
        ("active", task.DELETING, "ACTIVE"),
        ("building", None, "BUILD"),
        ("building", task.SCHEDULING, "BUILD"),
        ("building", task.SPAWNING, "BUILD"),
        ("stopped", None, "SHUTOFF"),
        ("stopped", task.POWERING_ON, "SHUTOFF"),
        ("stopped", task.REBUILDING, "REBUILD"),
        ("stopped", task.RESIZE_MIGRATING, "RESIZE"),
        ("paused", None, "PAUSED"),
        ("paused", task.MIGRATING, "MIGRATING"),
        ("suspended", None, "SUSPENDED"),
        ("rescued", None, "RESCUE"),
        ("resized", None, "VERIFY_RESIZE"),
        ("resized", task.RESIZE_REVERTING, "REVERT_RESIZE"),
        ("error", None, "ERROR"),
        ("error", task.REBUILDING, "REBUILD"),
        ("error", task.DELETING, "ERROR"),
        ("deleted", None, "DELETED"),
        ("soft-delete", None, "SOFT_DELETED"),
        ("shelved", None, "SHELVED"),
        ("shelved_offloaded", None, "SHELVED_OFFLOADED"),
        ("bogus", None, "UNKNOWN"),
    ],
)
def test_status_map(vm_state, task_state, status):
    assert api_status(vm_state, task_state) == status
    assert status in states.API_STATUSES


def test_power_states():
    assert (states.NOSTATE, states.RUNNING, states.PAUSED_POWER, states.SHUTDOWN, states.CRASHED,
            states.SUSPENDED_POWER) == (0, 1, 3, 4, 6, 7)
    assert states.power.PAUSED == 3 and states.power.SUSPENDED == 7
    assert states.power_state_name(1) == "running"
    assert states.power_state_name(4) == "shutdown"
    assert states.power_state_name(None) == "pending"


def test_states_for_status():
    assert states.states_for_status("ACTIVE") == (["active"], None)
    vm, tasks = states.states_for_status("HARD_REBOOT")
    assert vm == ["active"] and set(tasks) == set(states.HARD_REBOOT_STATES)
    assert states.states_for_status("SHUTOFF") == (["stopped"], None)
    assert states.states_for_status("nonsense") == ([], [])


ALLOWED = [
    ("reboot", "SOFT", "active", None),
    ("reboot", "HARD", "active", None),
    ("reboot", "HARD", "stopped", None),
    ("reboot", "HARD", "paused", None),
    ("reboot", "HARD", "suspended", None),
    ("reboot", "HARD", "error", None),
    ("reboot", "HARD", "active", task.REBOOTING),  # hard reboot may interrupt a soft one
    ("stop", None, "active", None),
    ("stop", None, "error", None),
    ("start", None, "stopped", None),
    ("pause", None, "active", None),
    ("unpause", None, "paused", None),
    ("suspend", None, "active", None),
    ("resume", None, "suspended", None),
    ("rebuild", None, "active", None),
    ("rebuild", None, "stopped", None),
    ("rebuild", None, "error", None),
    ("delete", None, "building", task.SCHEDULING),
    ("delete", None, "error", None),
    ("delete", None, "active", task.REBOOTING_HARD),
    ("get_console_output", None, "active", None),
    ("get_console_output", None, "stopped", None),
    ("update", None, "building", task.SPAWNING),
]


@pytest.mark.parametrize("action,reboot_type,vm_state,task_state", ALLOWED)
def test_allowed(action, reboot_type, vm_state, task_state):
    check_allowed(Inst(vm_state, task_state), action, reboot_type=reboot_type)


FORBIDDEN = [
    ("pause", None, "stopped", None, "Cannot 'pause' instance u-1 while it is in vm_state stopped"),
    ("reboot", "SOFT", "stopped", None, "Cannot 'reboot' instance u-1 while it is in vm_state stopped"),
    ("reboot", "SOFT", "active", task.REBOOTING, "Cannot 'reboot' instance u-1 while it is in task_state rebooting"),
    ("reboot", "HARD", "building", task.SCHEDULING, "Cannot 'reboot' instance u-1 while it is in vm_state building"),
    ("reboot", "HARD", "active", task.DELETING, "Cannot 'reboot' instance u-1 while it is in task_state deleting"),
    ("stop", None, "stopped", None, "Cannot 'stop' instance u-1 while it is in vm_state stopped"),
    ("stop", None, "active", task.POWERING_OFF, "Cannot 'stop' instance u-1 while it is in task_state powering-off"),
    ("start", None, "active", None, "Cannot 'start' instance u-1 while it is in vm_state active"),
    ("unpause", None, "active", None, "Cannot 'unpause' instance u-1 while it is in vm_state active"),
    ("suspend", None, "paused", None, "Cannot 'suspend' instance u-1 while it is in vm_state paused"),
    ("resume", None, "active", None, "Cannot 'resume' instance u-1 while it is in vm_state active"),
    ("rebuild", None, "building", None, "Cannot 'rebuild' instance u-1 while it is in vm_state building"),
    ("get_console_output", None, "building", task.SPAWNING,
     "Cannot 'get_console_output' instance u-1 while it is in vm_state building"),
    ("update", None, "deleted", None, "Cannot 'update' instance u-1 while it is in vm_state deleted"),
]


@pytest.mark.parametrize("action,reboot_type,vm_state,task_state,message", FORBIDDEN)
def test_forbidden_is_409_with_nova_wording(action, reboot_type, vm_state, task_state, message):
    with pytest.raises(Conflict) as info:
        check_allowed(Inst(vm_state, task_state), action, reboot_type=reboot_type)
    assert info.value.code == 409
    assert info.value.message == message


def test_locked_instance():
    inst = Inst("active", locked=True)
    with pytest.raises(states.InstanceLocked, match="Instance u-1 is locked"):
        check_allowed(inst, "pause")
    with pytest.raises(states.InstanceLocked):
        check_allowed(inst, "delete")
    check_allowed(inst, "pause", is_admin=True)
    check_allowed(inst, "get_console_output")


def test_console_needs_a_host():
    with pytest.raises(states.InstanceNotReady, match="has not been scheduled"):
        check_allowed(Inst("error", host=None), "get_console_output")


def test_bad_reboot_type_and_unknown_action():
    from cloudproj.exceptions import Invalid

    with pytest.raises(Invalid):
        check_allowed(Inst("active"), "reboot", reboot_type="MEDIUM")
    with pytest.raises(KeyError):
        check_allowed(Inst("active"), "fly")


def test_every_task_state_is_known():
    assert len(set(states.TASK_STATES)) == len(states.TASK_STATES)
    for vm_state, task_map in states.STATE_MAP.items():
        assert vm_state in states.VM_STATES
        assert all(t == "default" or t in states.TASK_STATES for t in task_map)
