"""nova-manage style `fixed` command: list [--host H]."""
from cloudproj.cli import CategoryCommand
from network.models import FixedIP


class Command(CategoryCommand):
    help = "Fixed IPs: list."
    actions = {"list": "List fixed IPs (--host: those of that host's instances; --allocated: allocated ones)."}

    def add_action_arguments(self, name, parser):
        if name == "list":
            parser.add_argument("--host", default=None)
            parser.add_argument("--allocated", action="store_true", help="only allocated addresses")

    def action_list(self, options):
        qs = FixedIP.objects.filter(network__deleted_at__isnull=True).select_related("network")
        if options["host"]:
            qs = qs.filter(host=options["host"])
        if options["allocated"]:
            qs = qs.filter(allocated=True)
        rows = [
            [ip.network.cidr, ip.address, ip.mac_address, ip.hostname, ip.host, ip.instance_uuid,
             "yes" if ip.allocated else "no", "yes" if ip.leased else "no", "yes" if ip.reserved else "no"]
            for ip in qs.order_by("network_id", "id")
        ]
        self.table(["network", "IP address", "MAC address", "hostname", "host", "instance",
                    "allocated", "leased", "reserved"], rows)
