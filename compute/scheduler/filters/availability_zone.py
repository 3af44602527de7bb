from ..base import BaseFilter


class AvailabilityZoneFilter(BaseFilter):
    """Only hosts in the requested availability zone (any host when none was asked for)."""

    run_filter_once_per_request = True

    def host_passes(self, host_state, spec) -> bool:
        zone = spec.availability_zone
        return not zone or host_state.availability_zone == zone
