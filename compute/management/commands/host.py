"""nova-manage style `host` commands: list."""
from cloudproj.cli import CategoryCommand
from compute.services import hosts


class Command(CategoryCommand):
    help = "Hosts: list (host and zone)."
    actions = {"list": "List hosts with their availability zone."}

    def add_action_arguments(self, name, parser):
        if name == "list":
            parser.add_argument("--zone", help="only hosts in this zone")

    def action_list(self, options):
        zone = options.get("zone")
        rows = [[host, host_zone] for host, host_zone in hosts.hosts() if not zone or host_zone == zone]
        self.table(["host", "zone"], rows)
