from django.conf import settings
from django.db.models import F, Q, Value

from ..base import BaseFilter
from ..candidates import at_least, real
from ..host_state import cores_fit


class CoreFilter(BaseFilter):
    """Enough vcpus under CPU_ALLOCATION_RATIO (and no more than the host physically has)."""

    def host_passes(self, host_state, spec) -> bool:
        return cores_fit(host_state, spec.vcpus)

    def sql_condition(self, spec):
        room = real("vcpus") * Value(float(settings.CPU_ALLOCATION_RATIO)) - F("vcpus_used")
        return Q(vcpus__lte=0) | (Q(vcpus__gte=spec.vcpus) & at_least(room, spec.vcpus))
