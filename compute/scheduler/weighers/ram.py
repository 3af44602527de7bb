from django.conf import settings
from django.db.models import F, Value

from ..base import BaseWeigher


class RamWeigher(BaseWeigher):
    """Free RAM × RAM_WEIGHT_MULTIPLIER: positive spreads, negative stacks."""

    def weight_multiplier(self) -> float:
        return settings.RAM_WEIGHT_MULTIPLIER

    def _weigh_object(self, host_state, spec) -> float:
        return host_state.free_ram_mb

    def sql_weight(self):
        return F("memory_mb") - F("memory_mb_used") - Value(settings.RESERVED_HOST_MEMORY_MB)
