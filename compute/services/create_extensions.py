"""What other apps add to a server create, registered from their AppConfig.ready: compute
imports none of them (the security groups live in the secgroups app, which builds on compute).

    register_security_groups(resolve, join)
        resolve(project_id, requested names or None) -> [group]: the groups new servers join
                                                        (an error, e.g. 400, refuses the create)
        join(instances, groups)                         the memberships, in the create transaction

Without a registration a server joins no group.
"""
from collections.abc import Callable, Iterable
from typing import Any

_security_groups: dict[str, Callable[..., Any]] = {}


def register_security_groups(resolve: Callable[[str, Any], list], join: Callable[[list, list], None]) -> None:
    _security_groups.update(resolve=resolve, join=join)


def security_groups_for_create(project_id: str, requested: Iterable[str] | None) -> list:
    resolve = _security_groups.get("resolve")
    return list(resolve(project_id, requested)) if resolve else []


def join_security_groups(instances: list, groups: list) -> None:
    join = _security_groups.get("join")
    if join and groups:
        join(instances, groups)
