"""SameHostFilter / DifferentHostFilter: the `same_host` / `different_host` scheduler hints
(instance uuids). Two classes in one file because settings name them both here."""
import uuid

from ..base import BaseFilter


def _hosts_of(uuids) -> set:
    from ...models import Instance

    valid = []
    for value in uuids:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not valid:
        return set()
    return set(Instance.objects.filter(uuid__in=valid, host__isnull=False).values_list("host", flat=True))


class _AffinityFilter(BaseFilter):
    hint_name = ""
    run_filter_once_per_request = True

    def filter_all(self, host_states, spec) -> list:
        uuids = spec.hint(self.hint_name)
        self._hosts = _hosts_of(uuids) if uuids else None  # one query for all hosts
        try:
            return super().filter_all(host_states, spec)
        finally:
            self._hosts = None

    def _overlap(self, host_state, spec) -> bool | None:
        uuids = spec.hint(self.hint_name)
        if not uuids:
            return None
        hosts = getattr(self, "_hosts", None)
        if hosts is None:
            hosts = _hosts_of(uuids)
        return host_state.host in hosts


class SameHostFilter(_AffinityFilter):
    """Only hosts running one of the `same_host` instances."""

    hint_name = "same_host"

    def host_passes(self, host_state, spec) -> bool:
        overlap = self._overlap(host_state, spec)
        return True if overlap is None else overlap


class DifferentHostFilter(_AffinityFilter):
    """Only hosts running none of the `different_host` instances."""

    hint_name = "different_host"

    def host_passes(self, host_state, spec) -> bool:
        overlap = self._overlap(host_state, spec)
        return True if overlap is None else not overlap
