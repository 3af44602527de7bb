from django.conf import settings
from django.db.models import F, Value

from ..base import BaseFilter
from ..candidates import at_least, real
from ..host_state import disk_fits


class DiskFilter(BaseFilter):
    """Enough local disk (root + ephemeral + swap) under DISK_ALLOCATION_RATIO."""

    def host_passes(self, host_state, spec) -> bool:
        return disk_fits(host_state, spec.disk_mb)

    def sql_condition(self, spec):
        limit = real("local_gb") * Value(1024.0 * settings.DISK_ALLOCATION_RATIO)
        used = F("local_gb_used") * Value(1024) + Value(settings.RESERVED_HOST_DISK_MB)
        return at_least(limit - used, spec.disk_mb)
