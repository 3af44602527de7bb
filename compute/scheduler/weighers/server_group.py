"""ServerGroupSoftAffinityWeigher / ServerGroupSoftAntiAffinityWeigher: the soft policies
of the instance's server group weigh hosts by how many members they hold (more is better
for soft-affinity, fewer for soft-anti-affinity); never a reason to refuse a host.

Their SQL weight is 0: past SCHEDULER_MAX_CANDIDATES hosts the candidate window is ranked
without them, and they order the hosts inside the window."""
from django.conf import settings
from django.db.models import FloatField, Value

from ..base import BaseWeigher
from ..filters.server_group import group_hosts


class _SoftWeigher(BaseWeigher):
    policy = ""
    sign = 1.0

    def weigh_objects(self, host_states, spec) -> list[float]:
        state = group_hosts(spec, (self.policy,))
        hosts = state[1] if state is not None else {}
        return [self.sign * hosts.get(host.host, 0) + 0.0 for host in host_states]  # + 0.0: no -0.0

    def _weigh_object(self, host_state, spec) -> float:
        state = group_hosts(spec, (self.policy,))
        return self.sign * (state[1].get(host_state.host, 0) if state is not None else 0) + 0.0

    def sql_weight(self):
        return Value(0.0, output_field=FloatField())


class ServerGroupSoftAffinityWeigher(_SoftWeigher):
    policy = "soft-affinity"

    def weight_multiplier(self) -> float:
        return settings.SOFT_AFFINITY_WEIGHT_MULTIPLIER


class ServerGroupSoftAntiAffinityWeigher(_SoftWeigher):
    policy = "soft-anti-affinity"
    sign = -1.0

    def weight_multiplier(self) -> float:
        return settings.SOFT_ANTI_AFFINITY_WEIGHT_MULTIPLIER
