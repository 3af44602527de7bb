"""How far an instance's running action has got, read from its action's events (the steps the
tasks record with compute.services.actions.event): which steps are done, which one runs and for
how long, out of the steps that action is known to take. The instance page shows it while a
task is in progress (resize, shelve, rescue, snapshot, reboot, ...), as the stop's row does."""
from dataclasses import dataclass, field

from django.utils import timezone

from compute.models import InstanceAction, InstanceActionEvent

# the steps each multi-step action records, in order (compute/services/build.py, resize*.py,
# shelve*.py); any other action is one step, compute_<action>
PLANS = {
    "create": ("schedule", "allocate_ip", "fetch_image", "spawn"),
    "resize": ("compute_prep_resize", "compute_resize_instance", "compute_finish_resize"),
    "migrate": ("compute_prep_resize", "compute_resize_instance", "compute_finish_resize"),
    "revertResize": ("compute_revert_resize", "compute_finish_revert_resize"),
    "unshelve": ("schedule", "compute_unshelve_instance"),
}


@dataclass
class Step:
    name: str
    state: str  # "done", "failed", "running", "waiting"
    seconds: float | None = None


@dataclass
class Progress:
    action: str
    request_id: str
    steps: list = field(default_factory=list)
    elapsed: int = 0  # seconds since the action started

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.state == "done")

    @property
    def current(self) -> Step | None:
        return next((s for s in self.steps if s.state in ("running", "failed")), None) or next(
            (s for s in self.steps if s.state == "waiting"), None)

    @property
    def position(self) -> int:
        """1-based number of the step under way (the last one once all are done)."""
        current = self.current
        return self.steps.index(current) + 1 if current is not None else self.total


def action_progress(instance) -> Progress | None:
    """The progress of the instance's latest unfinished action (None if none runs): two queries."""
    if instance.task_state is None:
        return None
    action = (InstanceAction.objects.filter(instance=instance, finish_time__isnull=True)
              .order_by("-start_time", "-id").first())
    if action is None:
        return None
    now = timezone.now()
    recorded = {}
    for event in InstanceActionEvent.objects.filter(action=action).order_by("start_time", "id"):
        recorded[event.event] = event  # a retried step: its latest attempt
    plan = list(PLANS.get(action.action, ()))
    plan += [name for name in recorded if name not in plan]
    if not plan:
        plan = [f"compute_{action.action}"]
    steps = []
    for name in plan:
        event = recorded.get(name)
        if event is None:
            steps.append(Step(name, "waiting"))
        elif event.finish_time is None:
            steps.append(Step(name, "running", (now - event.start_time).total_seconds()))
        else:
            state = "failed" if (event.result or "").lower() == "error" else "done"
            steps.append(Step(name, state, (event.finish_time - event.start_time).total_seconds()))
    return Progress(action=action.action, request_id=action.request_id, steps=steps,
                    elapsed=max(0, int((now - action.start_time).total_seconds())))
