"""`./manage.py health`: one Nagios plugin line and exit code (0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN) for services, queue depth, STATE_PATH disk space, console log sizes and the networks
this machine's agent cannot serve (e.g. its dnsmasq cannot bind the bridge address)."""
import sys

from django.core.management.base import BaseCommand

from cloudproj.observability import health


class Command(BaseCommand):
    help = (
        "Check the cloud in the Nagios style: services up (heartbeats vs SERVICE_DOWN_TIME), queue "
        "depth, free space of STATE_PATH, console log sizes, networks this machine's agent cannot serve (a dnsmasq "
        "that cannot bind its address). Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."
    )

    def add_arguments(self, parser):
        defaults = health.Thresholds()
        parser.add_argument("--queue-warning", type=int, default=defaults.queue_warning, help="messages")
        parser.add_argument("--queue-critical", type=int, default=defaults.queue_critical, help="messages")
        parser.add_argument("--disk-warning", type=float, default=defaults.disk_warning_percent, help="%% free")
        parser.add_argument("--disk-critical", type=float, default=defaults.disk_critical_percent, help="%% free")
        parser.add_argument("--console-warning", type=float, default=defaults.console_warning_mb, help="MB")
        parser.add_argument("--console-critical", type=float, default=defaults.console_critical_mb, help="MB")

    def handle(self, *args, **options):
        limits = health.Thresholds(
            queue_warning=options["queue_warning"],
            queue_critical=options["queue_critical"],
            disk_warning_percent=options["disk_warning"],
            disk_critical_percent=options["disk_critical"],
            console_warning_mb=options["console_warning"],
            console_critical_mb=options["console_critical"],
        )
        try:
            status, line = health.summarize(health.run_checks(limits))
        except Exception as exc:  # noqa: BLE001 - a plugin that cannot check says UNKNOWN, never a traceback
            status, line = health.UNKNOWN, f"UNKNOWN - {type(exc).__name__}: {exc}"
        self.stdout.write(line)
        self.stdout.flush()
        sys.exit(status)
