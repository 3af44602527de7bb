"""What one scheduling request reads once: the instance's server group and its members'
hosts, the aggregates' metadata. Several filters and weighers ask for the same rows (the
group filters' SQL forms, their Python passes, the soft weighers): inside `one_request()`
the first asks the database, the others get its answer. Outside one, nothing is kept.

A fresh scope per select (FilterScheduler.select_hosts): a retry round reads again."""
import contextvars
from contextlib import contextmanager

_scope: contextvars.ContextVar = contextvars.ContextVar("scheduler_request_memo", default=None)


@contextmanager
def one_request():
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def remembered(key, compute):
    """compute() once per request scope for `key` (every call when there is no scope)."""
    cache = _scope.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def known(key):
    """What the scope holds for `key` (None when nothing)."""
    cache = _scope.get()
    return None if cache is None else cache.get(key)
