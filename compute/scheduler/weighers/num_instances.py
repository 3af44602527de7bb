from django.conf import settings
from django.db.models import F

from ..base import BaseWeigher


class NumInstancesWeigher(BaseWeigher):
    """Instance count × NUM_INSTANCES_WEIGHT_MULTIPLIER (default -1: fewer instances win)."""

    def weight_multiplier(self) -> float:
        return settings.NUM_INSTANCES_WEIGHT_MULTIPLIER

    def _weigh_object(self, host_state, spec) -> float:
        return host_state.num_instances

    def sql_weight(self):
        return F("num_instances")
