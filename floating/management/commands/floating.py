"""nova-manage style `floating` command: create, list, delete."""
from django.core.management.base import CommandError

from cloudproj.cli import CategoryCommand
from floating.models import FloatingIP
from floating.services import FloatingError
from floating.services import ranges


class Command(CategoryCommand):
    help = "Floating IPs (public addresses): create, list, delete."
    actions = {
        "create": "Create the floating IPs of a range (--ip_range=CIDR [--pool NAME] [--interface IF]).",
        "list": "List floating IPs (--host: those NATed by that host).",
        "delete": "Delete the floating IPs of a range (refused while any is allocated).",
        "ensure": "Create a pool's range unless the pool has addresses already (what `make run` does on first "
                  "start: --ip_range=CIDR --pool NAME [--interface IF]).",
    }

    def add_action_arguments(self, name, parser):
        if name in ("create", "delete", "ensure"):
            parser.add_argument("ip_range", nargs="?", help="CIDR or a single address")
            parser.add_argument("--ip_range", dest="ip_range_opt", default=None, help="CIDR or a single address")
        if name in ("create", "ensure"):
            parser.add_argument("--pool", default=None, help="pool name (default: DEFAULT_FLOATING_POOL)")
            parser.add_argument("--interface", default=None,
                                help="public interface (default: the NAT host's FLOATING_INTERFACE)")
        elif name == "list":
            parser.add_argument("--host", default=None)

    @staticmethod
    def _range(options) -> str:
        value = options.get("ip_range_opt") or options.get("ip_range")
        if not value:
            raise CommandError("give the range: --ip_range=CIDR")
        return value

    def action_create(self, options):
        try:
            rows = ranges.create_range(self._range(options), pool=options["pool"], interface=options["interface"])
        except FloatingError as exc:
            raise CommandError(exc.message) from exc
        interface = rows[0].interface or "FLOATING_INTERFACE of the NAT host"
        self.stdout.write(f"{len(rows)} floating IPs created in pool {rows[0].pool}: {rows[0].address}"
                          f"{' - ' + rows[-1].address if len(rows) > 1 else ''} (interface {interface})")

    def action_ensure(self, options):
        try:
            pool = ranges.pool_name(options["pool"])
        except FloatingError as exc:
            raise CommandError(exc.message) from exc
        count = FloatingIP.objects.filter(pool=pool).count()
        if count:
            self.stdout.write(f"floating pool {pool}: {count} addresses (kept)")
            return
        self.action_create(options)

    def action_list(self, options):
        qs = FloatingIP.objects.select_related("project", "fixed_ip").order_by("id")
        if options["host"]:
            qs = qs.filter(host=options["host"])
        rows = [
            [fip.project_id or "None", fip.address, fip.instance_uuid or "None",
             fip.fixed_ip.address if fip.instance_uuid and fip.fixed_ip_id else "None", fip.pool,
             fip.interface or "-", fip.host or "None"]
            for fip in qs
        ]
        self.table(["project", "address", "instance", "fixed_ip", "pool", "interface", "host"], rows)

    def action_delete(self, options):
        try:
            deleted = ranges.delete_range(self._range(options))
        except FloatingError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{deleted} floating IPs deleted")
