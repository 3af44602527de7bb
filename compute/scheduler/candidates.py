"""The scheduler's candidate hosts, narrowed and pre-ranked in PostgreSQL (as Nova's
placement service hands the scheduler at most `max_placement_results` candidates).

Reading, filtering and weighing every compute node in Python costs about 25 µs per host:
a quarter of a second per placement at 10,000 hosts (bench/RESULTS.md). Instead, once there
are more compute nodes than SCHEDULER_MAX_CANDIDATES, the filters that can say their rule in
SQL (enabled and up, zone, RAM, cores, disk, instance count, hosts tried before, forced
hosts, group and tenant rules) drop hosts in the query, and the weighers rank the rest
there; the best SCHEDULER_MAX_CANDIDATES come back as HostStates, in one query.

The ranking: each weigher whose SQL weight varies is normalised to 0..1 over the weight's
range on all compute nodes (its minval/maxval when it sets them), times its multiplier,
summed. The range comes from the weights' indexes (compute_node_free_ram_idx,
compute_node_instances_idx: a MIN/MAX is two index probes), and the ranking does not
read every host: the "lead" weigher (the largest multiplier) has an index, and only the
hosts whose lead weight is at least the weight `depth` hosts down that index (the cut) are
ranked. The cut is exact, not a guess: a host beyond it scores less than its lead term at
the cut plus the most the other weighers can add (the bound); when the window's last host
scores at least the bound, no host beyond the cut could have entered the window. When it
scores less (or too few hosts passed), the depth grows eightfold and the query runs again;
past the table's size there is no cut. So at 1,000,000 hosts a placement ranks a few
thousand rows, not a million (bench/scheduler_placement.py).

The Python filters and weighers then run over those candidates exactly as before, so the
SQL conditions only need to be no stricter than the Python rules (they are looser by half
a unit, against rounding). When at most SCHEDULER_MAX_CANDIDATES hosts pass the SQL, the
result equals a full pass. When more pass, the weighers see the best candidates by the SQL
ranking: the chosen host can differ from a full pass's when filters without an SQL form
(image properties, affinity) remove many of them, or when the Python weighers' range over
the candidates orders them otherwise. When the candidates all fail, the scheduler falls
back to a full pass.
"""
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import FloatField, Q, Value
from django.db.models.aggregates import Max, Min
from django.db.models.expressions import ExpressionWrapper
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from ..models import ComputeNode
from .host_state import NODE_COLUMNS, host_states_from_rows

SLACK = 0.5  # the SQL side of a capacity rule is looser by this much: Python decides
SAMPLE = 2  # the sample: SAMPLE x (window + 1) passing hosts down the lead weight's index


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


def node_count_estimate() -> int:
    """How many compute nodes there are: PostgreSQL's own estimate (no scan) when it says
    there are many, else a count. An estimate that is too high only sends a small cloud
    down the SQL path, whose answer then equals a full pass's."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                           [ComputeNode._meta.db_table])
            row = cursor.fetchone()
        if row and row[0] > 4 * max(settings.SCHEDULER_MAX_CANDIDATES, 1):
            return int(row[0])
    return ComputeNode.objects.count()


def usable(weighers, count: int | None = None) -> bool:
    """Worth it when there are more compute nodes than SCHEDULER_MAX_CANDIDATES (below that a
    full pass is faster than the ranking query, and exact); possible only when every weigher
    has an SQL weight."""
    limit = settings.SCHEDULER_MAX_CANDIDATES
    return (limit > 0 and all(w.sql_weight() is not None for w in weighers)
            and (node_count_estimate() if count is None else count) > limit)


@dataclass
class Term:
    """One weigher in the SQL ranking: multiplier x (weight - low) / (high - low)."""

    weight: object  # an expression over ComputeNode
    multiplier: float
    minval: float | None
    maxval: float | None
    lowest: float = 0.0  # the weight's range over the compute nodes
    highest: float = 0.0
    integral: bool = False  # whole numbers: a cut compares with an integer (so its index serves)

    @property
    def low(self) -> float:
        return float(self.lowest if self.minval is None else self.minval)

    @property
    def scale(self) -> float:
        """multiplier / (high - low); 0 when every host weighs the same (normalize's rule)."""
        high = float(self.highest if self.maxval is None else self.maxval)
        return self.multiplier / (high - self.low) if high != self.low else 0.0

    def value(self, weight: float) -> float:
        return self.scale * (weight - self.low)

    def most(self) -> float:
        """The most this term adds for any host (its weights lie within lowest..highest)."""
        return max(self.value(self.lowest), self.value(self.highest))

    def sql(self):
        return Value(self.scale) * (Cast(self.weight, FloatField()) - Value(self.low))


def ranking_terms(weighers) -> list[Term]:
    """The weighers that can change the order, with their ranges read (one query). A
    constant SQL weight (the soft group weighers') adds the same to every host: left out."""
    terms = [Term(w.sql_weight(), float(w.weight_multiplier()), w.minval, w.maxval) for w in weighers]
    terms = [t for t in terms if t.multiplier and not isinstance(t.weight, Value)]
    if terms:
        ranges = ComputeNode.objects.aggregate(
            **{f"lo{i}": Min(t.weight) for i, t in enumerate(terms)},
            **{f"hi{i}": Max(t.weight) for i, t in enumerate(terms)},
        )
        for i, term in enumerate(terms):
            low, high = ranges[f"lo{i}"] or 0, ranges[f"hi{i}"] or 0
            term.lowest, term.highest = float(low), float(high)
            term.integral = isinstance(low, int) and isinstance(high, int)
    return terms


def lead_of(terms) -> Term | None:
    """The term the sample walks: the largest reach (|multiplier| over the hosts' spread)."""
    spread = [t for t in terms if t.scale]
    return max(spread, key=lambda t: abs(t.value(t.highest) - t.value(t.lowest)), default=None)


def cuts(terms, threshold: float) -> list[Q]:
    """What every host scoring at least `threshold` satisfies, one condition per term on its
    weight alone (so on its index): its term is at least the threshold minus the most the
    other terms can add. Loosened by a billionth of the weight's spread, against rounding."""
    conditions = []
    for term in terms:
        if not term.scale:
            continue
        need = threshold - sum(t.most() for t in terms if t is not term)
        if need <= min(term.value(term.lowest), term.value(term.highest)):
            continue  # every host meets it
        weight = term.low + need / term.scale
        slack = 1e-9 * (abs(term.highest - term.lowest) + abs(weight) + 1)
        if term.scale > 0:
            weight = math.ceil(weight - slack) if term.integral else weight - slack
            conditions.append(Q(GreaterThanOrEqual(term.weight, weight)))
        else:
            weight = math.floor(weight + slack) if term.integral else weight + slack
            conditions.append(Q(LessThanOrEqual(term.weight, weight)))
    return conditions


def candidate_states(filters, weighers, spec, limit: int | None = None, count: int | None = None) -> tuple[list, bool]:
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
    terms = ranking_terms(weighers)
    lead = lead_of(terms)
    total = node_count_estimate() if count is None else count
    depth = SAMPLE * (limit + 1)
    more = False
    if lead is not None and total > depth:
        # the sample: the first `depth` passing hosts down the lead weight's index
        # (ties on it broken by the other weights, best first: a sort inside each tie)
        weights = {f"w{i}": t.weight for i, t in enumerate(terms)}
        order = [("-" if t.scale > 0 else "") + f"w{i}" for i, t in sorted(
            enumerate(terms), key=lambda item: item[1] is not lead) if t.scale]
        sample = list(qs.annotate(**weights).order_by(*order, "host", "hypervisor_hostname")
                      .values_list(*weights)[:depth])
        if len(sample) == depth:
            more = True  # more than `limit` pass
            scores = sorted((sum(t.value(float(w)) for t, w in zip(terms, row)) for row in sample), reverse=True)
            # `limit` hosts score at least this much: the best `limit` all meet the cuts
            qs = qs.filter(*cuts(terms, scores[limit - 1]))
    score = sum((t.sql() for t in terms), Value(0.0))
    ranked = qs.annotate(rank_score=number(score)).order_by("-rank_score", "host", "hypervisor_hostname")
    rows = list(ranked.values_list(*NODE_COLUMNS)[:limit + 1])
    more = more or len(rows) > limit
    rows = sorted(rows[:limit], key=lambda row: (row[0], row[1]))
    return host_states_from_rows(rows), more
