from django.db.models import Q

from ..base import BaseFilter


class RetryFilter(BaseFilter):
    """Skip hosts this instance was already tried on (a reschedule after a failed build)."""

    def host_passes(self, host_state, spec) -> bool:
        return host_state.host not in spec.tried_hosts

    def sql_condition(self, spec):
        return ~Q(host__in=sorted(spec.tried_hosts)) if spec.tried_hosts else None
