from django.conf import settings

from ..base import BaseWeigher


class RamWeigher(BaseWeigher):
    """Free RAM × RAM_WEIGHT_MULTIPLIER: positive spreads, negative stacks."""

    def weight_multiplier(self) -> float:
        return settings.RAM_WEIGHT_MULTIPLIER

    def _weigh_object(self, host_state, spec) -> float:
        return host_state.free_ram_mb
