from django.conf import settings
from django.db.models import Q

from ..base import BaseFilter


class AvailabilityZoneFilter(BaseFilter):
    """Only hosts in the requested availability zone (any host when none was asked for)."""

    run_filter_once_per_request = True

    def host_passes(self, host_state, spec) -> bool:
        zone = spec.availability_zone
        return not zone or host_state.availability_zone == zone

    def sql_condition(self, spec):
        zone = spec.availability_zone
        if not zone:
            return None
        condition = Q(service__availability_zone=zone)
        if zone == settings.DEFAULT_AVAILABILITY_ZONE:  # a service without a zone is in the default one
            condition |= Q(service__availability_zone="")
        return condition
