"""Filters over host aggregates' metadata (compute.services.aggregates):

AggregateInstanceExtraSpecsFilter: a flavor extra spec `aggregate_instance_extra_specs:<key>`
asks for hosts in an aggregate whose metadata <key> matches it:
a plain value (equal; a comma-separated metadata value matches any of its items), `<in> x`
(contains), `<or> a <or> b` (one of), `s== x` (equal), `= n` / `>= n` / `<= n` (numbers).
No SQL form: it runs on the candidate window only (the scheduler does a full pass when the
window has no host left).

AggregateMultiTenancyIsolation: a host in an aggregate with `filter_tenant_id` metadata
(comma-separated project ids; also filter_tenant_id_<n> keys) takes only those projects'
instances. Exact SQL form (the isolated hosts, read once).
"""
from django.db.models import Q

from ..base import BaseFilter
from ..memo import known, remembered

SCOPE = "aggregate_instance_extra_specs"
TENANT_KEY = "filter_tenant_id"


def _aggregates(hosts=None) -> dict:
    """{host: [metadata of its aggregates]} (of `hosts`, else of every host). Every host's
    is read once per scheduling request; a request that read it answers `hosts` from it."""
    from compute.services import aggregates

    if hosts is None:
        return remembered("aggregates", lambda: aggregates.host_aggregate_metadata(None))
    every = known("aggregates")
    if every is not None:
        return {host: every[host] for host in hosts if host in every}
    return aggregates.host_aggregate_metadata(hosts)


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def value_matches(have: str, wanted: str) -> bool:
    """Whether aggregate metadata value `have` satisfies the extra spec `wanted`."""
    wanted = wanted.strip()
    items = [item.strip() for item in str(have).split(",")]
    if wanted.startswith("<in>"):
        return wanted[4:].strip() in str(have)
    if wanted.startswith("<or>"):
        choices = {part.strip() for part in wanted.split("<or>") if part.strip()}
        return any(item in choices for item in items)
    if wanted.startswith("s=="):
        return wanted[3:].strip() in items
    for op, test in ((">=", lambda a, b: a >= b), ("<=", lambda a, b: a <= b), ("=", lambda a, b: a >= b)):
        if wanted.startswith(op):
            bound = _number(wanted[len(op):])
            return bound is not None and any(
                (value := _number(item)) is not None and test(value, bound) for item in items
            )
    return wanted in items


def wanted_specs(extra_specs: dict) -> dict:
    wanted = {}
    for key, value in (extra_specs or {}).items():
        scope, sep, name = key.partition(":")
        if sep and scope == SCOPE:  # unscoped keys are other features' (Nova's would read them too)
            wanted[name] = str(value)
    return wanted


class AggregateInstanceExtraSpecsFilter(BaseFilter):
    run_filter_once_per_request = True

    def filter_all(self, host_states, spec) -> list:
        host_states = list(host_states)
        self._metadata = _aggregates([h.host for h in host_states]) if wanted_specs(spec.flavor_extra_specs) else {}
        try:
            return super().filter_all(host_states, spec)
        finally:
            self._metadata = None

    def host_passes(self, host_state, spec) -> bool:
        wanted = wanted_specs(spec.flavor_extra_specs)
        if not wanted:
            return True
        metadata = getattr(self, "_metadata", None)
        if metadata is None:
            metadata = _aggregates([host_state.host])
        aggregates = metadata.get(host_state.host, [])
        return all(
            any(key in meta and value_matches(meta[key], value) for meta in aggregates)
            for key, value in wanted.items()
        )


def tenants_of(meta: dict) -> set | None:
    """The projects an aggregate's metadata admits (None: not an isolating aggregate)."""
    keys = [k for k in meta if k == TENANT_KEY or k.startswith(TENANT_KEY + "_")]
    if not keys:
        return None
    return {item.strip() for k in keys for item in meta[k].split(",") if item.strip()}


def isolated_hosts(project_id, hosts=None) -> set[str]:
    """Hosts that refuse `project_id`: in an isolating aggregate, and in none that admits it."""
    refused = set()
    for host, aggregates in _aggregates(hosts).items():
        tenant_sets = [t for t in (tenants_of(meta) for meta in aggregates) if t is not None]
        if tenant_sets and not any(str(project_id) in tenants for tenants in tenant_sets):
            refused.add(host)
    return refused


class AggregateMultiTenancyIsolation(BaseFilter):
    run_filter_once_per_request = True

    def filter_all(self, host_states, spec) -> list:
        host_states = list(host_states)
        self._refused = isolated_hosts(spec.project_id, [h.host for h in host_states])
        try:
            return super().filter_all(host_states, spec)
        finally:
            self._refused = None

    def host_passes(self, host_state, spec) -> bool:
        refused = getattr(self, "_refused", None)
        if refused is None:
            refused = isolated_hosts(spec.project_id, [host_state.host])
        return host_state.host not in refused

    def sql_condition(self, spec):
        refused = isolated_hosts(spec.project_id)
        return ~Q(host__in=sorted(refused)) if refused else None
