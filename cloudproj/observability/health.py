"""Nagios-style checks behind `./manage.py health`: each returns a Result; the worst status
wins. Status codes are Nagios's plugin exit codes."""
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from compute.models import Service, is_up

from . import queues

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


@dataclass
class Result:
    status: int
    message: str
    perfdata: list[str] = field(default_factory=list)


@dataclass
class Thresholds:
    queue_warning: int = 100
    queue_critical: int = 1000
    disk_warning_percent: float = 20.0  # free space of STATE_PATH below this: WARNING
    disk_critical_percent: float = 10.0
    console_warning_mb: float = 50.0  # one console log above this: WARNING
    console_critical_mb: float = 500.0


def _level(value, warning, critical, higher_is_worse=True) -> int:
    if higher_is_worse:
        return CRITICAL if value >= critical else WARNING if value >= warning else OK
    return CRITICAL if value <= critical else WARNING if value <= warning else OK


def check_services() -> Result:
    services = list(Service.objects.filter(disabled=False))
    if not services:
        return Result(WARNING, "no services registered", ["services_up=0;;;0;0"])
    down = [str(service) for service in services if not is_up(service)]
    perf = [f"services_up={len(services) - len(down)};;;0;{len(services)}", f"services_down={len(down)};;1;0"]
    if down:
        return Result(CRITICAL, f"{len(down)} of {len(services)} services down: {', '.join(sorted(down))}", perf)
    return Result(OK, f"{len(services)} services up", perf)


def check_queues(limits: Thresholds) -> Result:
    try:
        depths = queues.queue_depths()
    except queues.BrokerUnavailable as exc:
        return Result(CRITICAL, f"broker unreachable ({exc})", ["broker_up=0;;;0;1"])
    perf = ["broker_up=1;;;0;1"] + [
        f"'queue_{name}'={count};{limits.queue_warning};{limits.queue_critical};0" for name, count in depths.items()
    ]
    worst = max(depths.items(), key=lambda item: item[1], default=("-", 0))
    status = _level(worst[1], limits.queue_warning, limits.queue_critical)
    if status == OK:
        return Result(OK, f"{len(depths)} queues, deepest {worst[0]}={worst[1]}", perf)
    return Result(status, f"queue {worst[0]} holds {worst[1]} messages", perf)


def check_disk(limits: Thresholds, path: Path | None = None) -> Result:
    path = Path(path or settings.STATE_PATH)
    try:
        usage = shutil.disk_usage(path)
    except OSError as exc:
        return Result(UNKNOWN, f"cannot read disk space of {path}: {exc.strerror}")
    free_percent = 100.0 * usage.free / usage.total if usage.total else 0.0
    perf = [
        f"state_free_percent={free_percent:.1f}%;{limits.disk_warning_percent};{limits.disk_critical_percent};0;100",
        f"state_free={usage.free}B;;;0;{usage.total}",
    ]
    status = _level(free_percent, limits.disk_warning_percent, limits.disk_critical_percent, higher_is_worse=False)
    return Result(status, f"{path} {free_percent:.1f}% free ({usage.free // 2**20} MiB)", perf)


def check_console_logs(limits: Thresholds, instances_path: Path | None = None) -> Result:
    root = Path(instances_path or settings.INSTANCES_PATH)
    sizes = {}
    for log in root.glob("*/console.log") if root.is_dir() else ():
        try:
            sizes[log.parent.name] = log.stat().st_size
        except OSError:
            continue  # the instance went away while we looked
    total, largest = sum(sizes.values()), max(sizes.items(), key=lambda item: item[1], default=("-", 0))
    warn, crit = int(limits.console_warning_mb * 2**20), int(limits.console_critical_mb * 2**20)
    perf = [
        f"console_logs={len(sizes)};;;0",
        f"console_log_max={largest[1]}B;{warn};{crit};0",
        f"console_log_total={total}B",
    ]
    status = _level(largest[1], warn, crit)
    if status == OK:
        return Result(OK, f"{len(sizes)} console logs, largest {largest[1] // 1024} KiB", perf)
    return Result(status, f"console log of {largest[0]} is {largest[1] // 2**20} MiB", perf)


def check_networks(networks_path: Path | None = None) -> Result:
    """The networks this machine's agent could not serve at its last supervision pass: the
    `last-error` files it keeps under NETWORKS_PATH/<id>/ while a network fails (a bridge that
    cannot be made, a dnsmasq that cannot bind its address), removed once the network works."""
    root = Path(networks_path or settings.NETWORKS_PATH)
    failing = {}
    for path in sorted(root.glob("*/last-error")) if root.is_dir() else ():
        try:
            failing[path.parent.name] = path.read_text().strip()
        except OSError:
            continue  # cleared while we looked
    perf = [f"networks_failing={len(failing)};;1;0"]
    if failing:
        return Result(CRITICAL, f"{len(failing)} network(s) not served: " + "; ".join(failing.values()), perf)
    return Result(OK, "networks served", perf)


def run_checks(limits: Thresholds) -> list[Result]:
    from django.db import DatabaseError, connection

    try:
        connection.ensure_connection()
        results = [check_services()]
    except DatabaseError as exc:
        return [Result(UNKNOWN, f"database unreachable: {str(exc).strip().splitlines()[0] if str(exc) else exc}")]
    results.append(check_queues(limits))
    results.append(check_disk(limits))
    results.append(check_console_logs(limits))
    results.append(check_networks())
    return results


def summarize(results: list[Result]) -> tuple[int, str]:
    """One Nagios line: `STATUS - messages | perfdata`, the worst status first."""
    # UNKNOWN (3) is numerically worst but Nagios ranks CRITICAL above it
    rank = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}
    status = max((result.status for result in results), key=rank.__getitem__)
    ordered = sorted(results, key=lambda result: -rank[result.status])
    message = "; ".join(result.message for result in ordered)
    perfdata = " ".join(item for result in results for item in result.perfdata)
    return status, f"{NAMES[status]} - {message}" + (f" | {perfdata}" if perfdata else "")
