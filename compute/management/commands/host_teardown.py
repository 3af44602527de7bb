"""`./manage.py host_teardown`: this cloud's dnsmasq processes, iptables chains and (with
--bridges) bridges removed from this machine; nothing of another cloud (CLOUD_NAME)."""
import json

from django.conf import settings
from django.core.management.base import BaseCommand

from compute.services import cloud_teardown


class Command(BaseCommand):
    help = (
        "Remove this cloud's (CLOUD_NAME) host state on this machine: its dnsmasq processes, its iptables chains "
        "and their jumps, with --bridges its networks' bridges. `make run` runs it when it stops and when it starts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", action="append", default=[],
                            help="a host whose chains go (repeatable; default: CLOUD_HOST and the services' hosts)")
        parser.add_argument("--firewall", choices=cloud_teardown.FIREWALL_CHOICES, default="auto",
                            help="security-group chains: auto (removed when no instance is on the hosts), remove, keep")
        parser.add_argument("--bridges", action="store_true", help="also delete the bridges of the cloud's networks")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options):
        plan = cloud_teardown.plan(options["host"], options["firewall"], options["bridges"])
        report = cloud_teardown.teardown(plan)
        if options["json"]:
            self.stdout.write(json.dumps({"cloud": settings.CLOUD_NAME, "hosts": list(plan.hosts), **report}))
            return
        self.stdout.write(f"cloud {settings.CLOUD_NAME} on {', '.join(plan.hosts)}:")
        for key, value in report.items():
            shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            self.stdout.write(f"  {key}: {shown or '-'}")
