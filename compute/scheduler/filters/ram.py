from django.conf import settings
from django.db.models import F, Value

from ..base import BaseFilter
from ..candidates import at_least, real
from ..host_state import ram_fits


class RamFilter(BaseFilter):
    """Enough RAM under RAM_ALLOCATION_RATIO after RESERVED_HOST_MEMORY_MB."""

    def host_passes(self, host_state, spec) -> bool:
        return ram_fits(host_state, spec.memory_mb)

    def sql_condition(self, spec):
        limit = real("memory_mb") * Value(float(settings.RAM_ALLOCATION_RATIO))
        return at_least(limit - (F("memory_mb_used") + Value(settings.RESERVED_HOST_MEMORY_MB)), spec.memory_mb)
