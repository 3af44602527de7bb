"""FilterScheduler: filters (settings.SCHEDULER_FILTERS) then weighers
(settings.SCHEDULER_WEIGHERS) over live host states; best host first. Past
SCHEDULER_MAX_CANDIDATES compute nodes, the hosts come narrowed and pre-ranked from
PostgreSQL (compute.scheduler.candidates) when every weigher has an SQL form."""
import logging

from django.conf import settings

from . import candidates, memo
from .base import NoValidHost, load_classes, no_valid_host, weigh_hosts
from .host_state import get_host_states
from .request_spec import RequestSpec

log = logging.getLogger(__name__)


class FilterScheduler:
    def __init__(self, filters=None, weighers=None):
        self.filters = load_classes(settings.SCHEDULER_FILTERS) if filters is None else list(filters)
        self.weighers = load_classes(settings.SCHEDULER_WEIGHERS) if weighers is None else list(weighers)

    # --- steps -----------------------------------------------------------------------------

    def host_states(self, spec) -> list:
        return get_host_states(spec.force_hosts or None)

    def filter_hosts(self, host_states, spec) -> tuple[list, list]:
        """(hosts passing every filter, [(filter name, hosts it removed)])."""
        removed = []
        hosts = list(host_states)
        for flt in self.filters:
            if not hosts:
                removed.append((flt.name, 0))
                continue
            hosts = flt.filter_all(hosts, spec)
            removed.append((flt.name, flt.removed))
            log.debug("scheduler: %s removed %d host(s), %d left", flt.name, flt.removed, len(hosts))
        return hosts, removed

    def weigh(self, host_states, spec) -> list:
        return [w.obj for w in weigh_hosts(self.weighers, host_states, spec)]

    # --- entry points ----------------------------------------------------------------------

    def select_hosts(self, spec) -> list:
        """Every host that can take the instance, best first; NoValidHost when none can."""
        with memo.one_request():  # the group and aggregate rows: read once, not per filter
            return self._select_hosts(RequestSpec.coerce(spec))

    def _select_hosts(self, spec) -> list:
        count = candidates.node_count_estimate()
        if candidates.usable(self.weighers, count):
            states, _more = candidates.candidate_states(self.filters, self.weighers, spec, count=count)
            passed, _removed = self.filter_hosts(states, spec)
            if passed:
                return self.weigh(passed, spec)
            # none: a full pass says what each filter removed (and, when the SQL let more
            # hosts through than came back, finds one further down that fits)
        states = self.host_states(spec)
        passed, removed = self.filter_hosts(states, spec)
        if not passed:
            error = no_valid_host(len(states), removed)
            log.info("scheduler: instance %s: %s", spec.instance_uuid, error.message)
            raise error
        return self.weigh(passed, spec)

    def select_host(self, spec) -> str:
        return self.select_hosts(spec)[0].host

    def select_destinations(self, spec, count: int) -> list[str]:
        """Hosts for `count` identical instances in one pass (usage consumed between picks)."""
        spec = RequestSpec.coerce(spec)
        with memo.one_request():
            return self._select_destinations(spec, count)

    def _select_destinations(self, spec, count: int) -> list[str]:
        states = self.host_states(spec)
        chosen = []
        for _ in range(count):
            passed, removed = self.filter_hosts(states, spec)
            if not passed:
                raise no_valid_host(len(states), removed)
            best = self.weigh(passed, spec)[0]
            best.consume(spec)
            chosen.append(best.host)
        return chosen


__all__ = ["FilterScheduler", "NoValidHost"]
