from ..base import BaseFilter
from ..host_state import cores_fit


class CoreFilter(BaseFilter):
    """Enough vcpus under CPU_ALLOCATION_RATIO (and no more than the host physically has)."""

    def host_passes(self, host_state, spec) -> bool:
        return cores_fit(host_state, spec.vcpus)
