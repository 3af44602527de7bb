from ..base import BaseFilter
from ..host_state import ram_fits


class RamFilter(BaseFilter):
    """Enough RAM under RAM_ALLOCATION_RATIO after RESERVED_HOST_MEMORY_MB."""

    def host_passes(self, host_state, spec) -> bool:
        return ram_fits(host_state, spec.memory_mb)
