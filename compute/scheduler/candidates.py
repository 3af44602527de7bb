"""The scheduler's candidate hosts, narrowed and pre-ranked in PostgreSQL (as Nova's
placement service hands the scheduler at most `max_placement_results` candidates).

Reading, filtering and weighing every compute node in Python costs about 25 µs per host:
a quarter of a second per placement at 10,000 hosts (bench/RESULTS.md). Instead, once there
are more compute nodes than SCHEDULER_MAX_CANDIDATES, the filters that can say their rule in
SQL (enabled and up, zone, RAM, cores, disk, instance count, hosts tried before, forced
hosts) drop hosts in the query, and the weighers rank the rest there, normalised over them
as the Python weighers normalise (window functions); the ids of the best
SCHEDULER_MAX_CANDIDATES come back, then their rows as HostStates.

The Python filters and weighers then run over those candidates exactly as before, so the
SQL conditions only need to be no stricter than the Python rules (they are looser by half
a unit, against rounding). When at most SCHEDULER_MAX_CANDIDATES hosts pass the SQL, the
result equals a full pass. When more pass, the weighers see the best candidates by the SQL
ranking, which normalises over all of them: the chosen host can differ from a full pass's
when filters without an SQL form (image properties, affinity) remove many of them. When
the candidates all fail, the scheduler falls back to a full pass.
"""
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import FloatField, Q, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.db.models.aggregates import Max, Min
from django.db.models.expressions import ExpressionWrapper, Window
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from ..models import ComputeNode
from .host_state import NODE_COLUMNS, host_states_from_rows

SLACK = 0.5  # the SQL side of a capacity rule is looser by this much: Python decides


def number(expression):
    return ExpressionWrapper(expression, output_field=FloatField())


def real(column: str):
    """A column as double precision (a literal like 1.5 would make PostgreSQL compute in numeric)."""
    return Cast(column, FloatField())


def at_least(expression, minimum) -> Q:
    return Q(GreaterThanOrEqual(number(expression), float(minimum) - SLACK))


def heartbeat_condition(now=None) -> Q:
    """ComputeFilter's rule (models.heartbeat_is_recent) over the service's columns."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.SERVICE_DOWN_TIME + 1)
    return Q(service__disabled=False, service__forced_down=False,
             service__last_seen_up__range=(now - window, now + window))


@contextmanager
def planner_setting(name: str, value: str):
    """A PostgreSQL planner setting for the queries inside (use inside transaction.atomic);
    the transaction's own value comes back after them."""
    if connection.vendor != "postgresql":
        yield  # the embedded SQLite database has no such settings
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s), set_config(%s, %s, true)", [name, name, value])
        (before, _now) = cursor.fetchone()
    yield  # an error rolls the atomic block back, and the setting with it
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [name, before])


def usable(weighers) -> bool:
    """Worth it when there are more compute nodes than SCHEDULER_MAX_CANDIDATES (below that a
    full pass is faster than the ranking query, and exact); possible only when every weigher
    has an SQL weight."""
    limit = settings.SCHEDULER_MAX_CANDIDATES
    return (limit > 0 and all(w.sql_weight() is not None for w in weighers)
            and ComputeNode.objects.count() > limit)


def candidate_states(filters, weighers, spec, limit: int | None = None) -> tuple[list, bool]:
    """(HostStates of the best `limit` hosts passing the SQL forms of `filters`, whether
    more hosts passed than came back). Ordered by host and node, as get_host_states."""
    limit = limit or settings.SCHEDULER_MAX_CANDIDATES
    qs = ComputeNode.objects.filter(service__binary="nova-compute")
    if spec.force_hosts:
        qs = qs.filter(host__in=list(spec.force_hosts))
    for flt in filters:
        condition = flt.sql_condition(spec)
        if condition is not None:
            qs = qs.filter(condition)
    score = Value(0.0, output_field=FloatField())
    for weigher in weighers:
        weight = Cast(weigher.sql_weight(), FloatField())
        low = Value(float(weigher.minval)) if weigher.minval is not None else Window(Min(weight))
        high = Value(float(weigher.maxval)) if weigher.maxval is not None else Window(Max(weight))
        normalised = Coalesce(number((weight - low) / NullIf(high - low, Value(0.0))), Value(0.0))
        score = number(score + Value(float(weigher.weight_multiplier())) * normalised)
    ranked_qs = qs.annotate(rank_score=score).order_by("-rank_score", "host", "hypervisor_hostname")
    # the capacity conditions are expressions PostgreSQL cannot estimate (it guesses a few
    # hundred rows of 10,000 and then looks every service up by index): hash the join instead
    with transaction.atomic(), planner_setting("enable_nestloop", "off"):
        ranked = list(ranked_qs.values_list("id", flat=True)[:limit + 1])
    rows = list(ComputeNode.objects.filter(id__in=ranked[:limit]).values_list(*NODE_COLUMNS))
    more = len(ranked) > limit
    rows.sort(key=lambda row: (row[0], row[1]))
    return host_states_from_rows(rows), more

