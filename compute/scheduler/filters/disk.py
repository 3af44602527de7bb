from ..base import BaseFilter
from ..host_state import disk_fits


class DiskFilter(BaseFilter):
    """Enough local disk (root + ephemeral + swap) under DISK_ALLOCATION_RATIO."""

    def host_passes(self, host_state, spec) -> bool:
        return disk_fits(host_state, spec.disk_mb)
