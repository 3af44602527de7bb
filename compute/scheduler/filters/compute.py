from ..base import BaseFilter
from ..candidates import heartbeat_condition


class ComputeFilter(BaseFilter):
    """Only hosts whose nova-compute service is enabled and up (recent heartbeat)."""

    run_filter_once_per_request = True

    def host_passes(self, host_state, spec) -> bool:
        return not host_state.service_disabled and host_state.service_up

    def sql_condition(self, spec):
        return heartbeat_condition()
