"""nova-manage style `host` commands: list; evacuate (every server of a down host, Nova's
`nova host-evacuate`)."""
from django.core.management.base import CommandError

from cloudproj.cli import CategoryCommand
from cloudproj.exceptions import CloudError
from cloudproj.middleware import new_request_id
from compute.models import Migration
from compute.services import evacuate, hosts
from compute.services.project_scrub import OperatorContext


class Command(CategoryCommand):
    help = "Hosts: list (host and zone), evacuate (the servers of a down host)."
    actions = {
        "list": "List hosts with their availability zone.",
        "evacuate": "Rebuild every server of a host whose compute service is down (or forced down) on "
                    "other hosts, from their images; `openstack server migration list` follows them.",
    }

    def add_action_arguments(self, name, parser):
        if name == "list":
            parser.add_argument("--zone", help="only hosts in this zone")
        elif name == "evacuate":
            parser.add_argument("host", help="the down host")
            parser.add_argument("--target-host", help="rebuild them there (default: the scheduler's choice)")

    def action_list(self, options):
        zone = options.get("zone")
        rows = [[host, host_zone] for host, host_zone in hosts.hosts() if not zone or host_zone == zone]
        self.table(["host", "zone"], rows)

    def action_evacuate(self, options):
        ctx = OperatorContext(project_id=None, request_id=new_request_id())
        try:
            results = evacuate.evacuate_host(ctx, options["host"], options.get("target_host"))
        except CloudError as exc:
            raise CommandError(exc.message) from exc
        rows = [[instance.uuid, instance.display_name, "accepted" if isinstance(outcome, Migration)
                 else f"refused: {outcome}"] for instance, outcome in results]
        self.table(["Server", "Name", "Evacuation"], rows)
        accepted = sum(1 for row in rows if row[2] == "accepted")
        self.stdout.write(f"{accepted} of {len(rows)} server(s) of {options['host']} being evacuated "
                          f"(request {ctx.request_id}).")
        if accepted < len(rows):
            raise CommandError(f"{len(rows) - accepted} server(s) could not be evacuated.")
