from django.conf import settings
from django.db.models import Q

from ..base import BaseFilter
from ..host_state import instances_fit


class NumInstancesFilter(BaseFilter):
    """Fewer than MAX_INSTANCES_PER_HOST instances already on the host."""

    def host_passes(self, host_state, spec) -> bool:
        return instances_fit(host_state)

    def sql_condition(self, spec):
        return Q(num_instances__lte=settings.MAX_INSTANCES_PER_HOST - 1)
