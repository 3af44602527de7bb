"""Base classes of the pluggable filters and weighers, and the scheduler's errors."""
from django.utils.module_loading import import_string

from cloudproj.exceptions import CloudError


class NoValidHost(CloudError):
    """Nothing can take the instance; `removed` = [(filter name, hosts removed)]."""

    code = 500

    def __init__(self, message: str, total: int = 0, removed=None):
        super().__init__(message)
        self.total = total
        self.removed = list(removed or [])


def no_valid_host(total: int, removed, reason: str = "There are not enough hosts available.") -> NoValidHost:
    """"No valid host was found. There are not enough hosts available. (5 hosts: RamFilter
    removed 3, ComputeFilter removed 2)": filters that removed hosts, most first."""
    counted = [(name, n) for name, n in removed if n]
    counted.sort(key=lambda item: -item[1])  # stable: ties keep the filters' order
    detail = f"{total} host{'s' if total != 1 else ''}"
    if counted:
        detail += ": " + ", ".join(f"{name} removed {n}" for name, n in counted)
    return NoValidHost(f"No valid host was found. {reason} ({detail})", total, counted)


class BaseFilter:
    """A host filter: `host_passes(host_state, spec)` says whether the host can take it.

    `filter_all` runs it over a list and remembers how many hosts it removed last time
    (`removed`), which the scheduler reports in NoValidHost."""

    # run once per request (not per instance of a multi-create): Nova's run_filter_once_per_request
    run_filter_once_per_request = False

    def __init__(self):
        self.removed = 0

    @property
    def name(self) -> str:
        return type(self).__name__

    def host_passes(self, host_state, spec) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def sql_condition(self, spec):
        """The rule as a Q over ComputeNode (service__ for its service), no stricter than
        host_passes, or None when it has no SQL form (compute.scheduler.candidates)."""
        return None

    def filter_all(self, host_states, spec) -> list:
        host_states = list(host_states)
        passed = [host for host in host_states if self.host_passes(host, spec)]
        self.removed = len(host_states) - len(passed)
        return passed


class BaseWeigher:
    """A weigher: `_weigh_object(host_state, spec)` gives a raw weight; the scheduler
    normalizes the raw weights of all hosts to 0..1 (Nova's `normalize`), multiplies them by
    `weight_multiplier()` and adds up the weighers. Highest total wins."""

    minval = None
    maxval = None

    @property
    def name(self) -> str:
        return type(self).__name__

    def weight_multiplier(self) -> float:
        return 1.0

    def _weigh_object(self, host_state, spec) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def sql_weight(self):
        """The raw weight as an expression over ComputeNode, or None when it has none
        (then the scheduler reads every host: compute.scheduler.candidates)."""
        return None

    def weigh_objects(self, host_states, spec) -> list[float]:
        return [self._weigh_object(host, spec) for host in host_states]


def normalize(weights, minval=None, maxval=None) -> list[float]:
    """Scale to 0..1 over [minval, maxval] (the list's min/max when not given); all equal → 0."""
    weights = list(weights)
    if not weights:
        return []
    maxval = float(max(weights) if maxval is None else maxval)
    minval = float(min(weights) if minval is None else minval)
    if minval == maxval:
        return [0.0] * len(weights)
    span = maxval - minval
    return [(w - minval) / span for w in weights]


class WeighedHost:
    def __init__(self, obj, weight: float = 0.0):
        self.obj = obj
        self.weight = weight

    def __repr__(self):
        return f"<WeighedHost {self.obj.host}: {self.weight:.3f}>"


def weigh_hosts(weighers, host_states, spec) -> list[WeighedHost]:
    weighed = [WeighedHost(host) for host in host_states]
    if not weighed:
        return []
    for weigher in weighers:
        raw = weigher.weigh_objects([w.obj for w in weighed], spec)
        multiplier = weigher.weight_multiplier()
        for item, value, norm in zip(weighed, raw, normalize(raw, weigher.minval, weigher.maxval)):
            item.obj.weights[weigher.name] = value
            item.weight += multiplier * norm
    return sorted(weighed, key=lambda w: w.weight, reverse=True)


def load_classes(paths) -> list:
    """Instances of the classes at the dotted `paths` (settings.SCHEDULER_FILTERS ...)."""
    return [import_string(path)() for path in paths]
