"""ChanceScheduler (the seeds' default): a random host among those whose compute service is
enabled and up, in the requested zone, not tried before. Capacity is still enforced by the
claim, which moves on to the next random host when one is full."""
import random

from .filter_scheduler import FilterScheduler
from .filters.availability_zone import AvailabilityZoneFilter
from .filters.compute import ComputeFilter
from .filters.retry import RetryFilter


class ChanceScheduler(FilterScheduler):
    def __init__(self, rng=None):
        super().__init__(filters=[RetryFilter(), ComputeFilter(), AvailabilityZoneFilter()], weighers=[])
        self.rng = rng or random.SystemRandom()

    def weigh(self, host_states, spec) -> list:
        hosts = list(host_states)
        self.rng.shuffle(hosts)
        return hosts
