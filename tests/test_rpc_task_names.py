"""Task names are defined once (cloudproj.task_names): every registered task uses one, and
every name there belongs to a task a worker runs."""
import importlib

from cloudproj import task_names
from cloudproj.celery import app

TASK_MODULES = ("compute", "network", "secgroups", "floating", "volumes", "identity", "consoles", "images")


def _names() -> set[str]:
    """Every name constant, and the values of name tables (e.g. RESIZE_STEP_TASKS)."""
    names = set()
    for key, value in vars(task_names).items():
        if key.isupper() and isinstance(value, str):
            names.add(value)
        elif key.isupper() and isinstance(value, dict):
            names.update(v for v in value.values() if isinstance(v, str))
    return names


def test_every_task_is_registered_under_a_name_from_task_names():
    for app_name in TASK_MODULES:
        importlib.import_module(f"{app_name}.tasks")
    modules = {f"{app_name}.tasks" for app_name in TASK_MODULES}
    registered = {name for name, task in app.tasks.items() if task.__module__ in modules}
    assert registered == _names()  # (tests may register tasks of their own: not counted)


def test_beat_schedule_names_only_known_tasks(settings):
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= _names()
