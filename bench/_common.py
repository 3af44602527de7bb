"""What the benchmarks share: Django set up on a throw-away database, percentiles, the
machine's load average (seven people share this machine: every figure carries it)."""
import contextlib
import os
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudproj.settings")


def setup_django():
    import django

    django.setup()


@contextlib.contextmanager
def throwaway_database(name: str):
    """A fresh, migrated database `name` (dropped first and at the end) as the default
    connection. Benchmarks name theirs cloudproj_bench_*."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield name
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()  # a benchmark may use another throw-away database next


def own_redis_broker() -> str:
    """The broker URL, which must be a Redis database of the benchmark's own: it is flushed."""
    from django.conf import settings

    broker = str(settings.CELERY_BROKER_URL)
    if not broker.startswith("redis://"):
        sys.exit("set CELERY_BROKER_URL=redis://... (this bench's own Redis database: it is flushed)")
    import redis

    redis.Redis.from_url(broker).flushdb()
    return broker


def member_with_token(name: str = "bench"):
    """A project `name`, a member user of it and a Keystone token: (project, user, token)."""
    from identity.services import accounts
    from identity.models import Role
    from identity.services.tokens import issue_token

    accounts.ensure_default_roles()
    project = accounts.create_project(name)
    user = accounts.create_user(f"{name}-user", "bench-pass", default_project=project)
    accounts.assign_role(user, Role.objects.get(name="member"), project)
    token, _row = issue_token(user, project)
    return project, user, token


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values) -> str:
    return (f"p50 {statistics.median(values):8.2f} ms  p99 {percentile(values, 0.99):8.2f} ms  "
            f"max {max(values):8.2f} ms")


def load_average() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def machine() -> str:
    cpus = os.cpu_count()
    return f"{platform.node()} {platform.machine()} {cpus} cpu(s), Python {platform.python_version()}"
