"""ServerGroupAffinityFilter / ServerGroupAntiAffinityFilter: the hard policies of the
instance's server group (compute.services.server_groups). Both have an exact SQL form (the
member hosts, read once per request), so they narrow the candidate window too."""
from django.db.models import Q

from ..base import BaseFilter
from ..memo import remembered


def group_for(spec):
    """The server group of the instance being placed (its membership, else the `group` hint)."""
    from compute.services import server_groups
    from compute.models import ServerGroup

    group = server_groups.group_of(spec.instance_uuid)
    if group is None:
        for value in spec.hint("group"):
            group = ServerGroup.objects.filter(uuid=str(value)).first() if _is_uuid(value) else None
            break
    return group


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def group_hosts(spec, policies) -> tuple[object, dict] | None:
    """(group, {host: members there}) when the instance's group has one of `policies`
    (read once per scheduling request: compute.scheduler.memo)."""
    group, hosts = remembered(("server_group", spec.instance_uuid, tuple(spec.hint("group"))),
                              lambda: _group_and_hosts(spec))
    if group is None or group.policy not in policies:
        return None
    return group, hosts


def _group_and_hosts(spec):
    from compute.services import server_groups

    group = group_for(spec)
    if group is None:
        return None, {}
    return group, server_groups.member_hosts(group, exclude=spec.instance_uuid)


class _GroupFilter(BaseFilter):
    policy = ""
    run_filter_once_per_request = False  # each instance of a group changes the member hosts

    def filter_all(self, host_states, spec) -> list:
        self._state = group_hosts(spec, (self.policy,))  # one read for all hosts (None: no such group)
        self._read = True
        try:
            return super().filter_all(host_states, spec)
        finally:
            self._state, self._read = None, False

    def _current(self, spec):
        if getattr(self, "_read", False):
            return self._state
        return group_hosts(spec, (self.policy,))

    def host_passes(self, host_state, spec) -> bool:
        from compute.services import server_groups

        state = self._current(spec)
        if state is None:
            return True
        group, hosts = state
        return server_groups.host_problem(group, hosts, host_state.host) is None


class ServerGroupAntiAffinityFilter(_GroupFilter):
    """No host already holding max_server_per_host (1 by default) members of the group."""

    policy = "anti-affinity"

    def sql_condition(self, spec):
        state = group_hosts(spec, (self.policy,))
        if state is None:
            return None
        group, hosts = state
        full = sorted(host for host, count in hosts.items() if count >= group.max_server_per_host)
        return ~Q(host__in=full) if full else None


class ServerGroupAffinityFilter(_GroupFilter):
    """Only the host of the group's members (any host for the first member)."""

    policy = "affinity"

    def sql_condition(self, spec):
        state = group_hosts(spec, (self.policy,))
        if state is None or not state[1]:
            return None
        return Q(host__in=sorted(state[1]))
