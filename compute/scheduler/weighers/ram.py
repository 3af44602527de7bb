from django.conf import settings
from django.db.models import F

from ..base import BaseWeigher


class RamWeigher(BaseWeigher):
    """Free RAM × RAM_WEIGHT_MULTIPLIER: positive spreads, negative stacks."""

    def weight_multiplier(self) -> float:
        return settings.RAM_WEIGHT_MULTIPLIER

    def _weigh_object(self, host_state, spec) -> float:
        return host_state.free_ram_mb

    def sql_weight(self):
        # free RAM without the reserved MB: normalised weights do not move when every host's
        # weight shifts by one constant, and this expression is the one the index holds
        # (compute_node_free_ram_idx, which the scheduler's ranking walks)
        return F("memory_mb") - F("memory_mb_used")
