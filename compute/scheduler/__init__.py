"""The scheduler: pick a compute host for an instance and claim capacity there.

    get_scheduler()                    FilterScheduler or ChanceScheduler (settings.SCHEDULER_DRIVER)
    select_host(spec) -> host name     raises NoValidHost (message counts what each filter removed)
    claims.schedule_and_claim(spec)    select + claim atomically, retrying the next host on a race

`spec` is a RequestSpec (compute.scheduler.request_spec), a mapping with its fields, or
`RequestSpec.from_instance(instance)`.
"""
from .base import NoValidHost
from .request_spec import RequestSpec


def get_scheduler(driver: str | None = None):
    from django.conf import settings
    from django.utils.module_loading import import_string

    driver = driver or settings.SCHEDULER_DRIVER
    if driver == "filter":
        from .filter_scheduler import FilterScheduler

        return FilterScheduler()
    if driver == "chance":
        from .chance import ChanceScheduler

        return ChanceScheduler()
    return import_string(driver)()


def select_host(spec) -> str:
    return get_scheduler().select_host(spec)


__all__ = ["NoValidHost", "RequestSpec", "get_scheduler", "select_host"]
