"""nova-manage style `flavor` (instance_type) commands: list, create, delete."""
from django.core.management.base import CommandError

from cloudproj.cli import CategoryCommand
from compute.models import Flavor
from cloudproj.exceptions import CloudError
from compute.services import flavors as flavor_service


def describe(flavor: Flavor) -> str:
    inactive = ", inactive" if flavor.is_deleted else ""
    private = ", private" if not flavor.is_public else ""
    return (
        f"{flavor.name}: Memory: {flavor.memory_mb}MB, VCPUS: {flavor.vcpus}, Root: {flavor.root_gb}GB, "
        f"Ephemeral: {flavor.ephemeral_gb}Gb, FlavorID: {flavor.flavorid}, Swap: {flavor.swap}MB, "
        f"RXTX Factor: {flavor.rxtx_factor}{private}{inactive}"
    )


class Command(CategoryCommand):
    help = "Flavors (instance types): list, create, delete [--purge]."
    actions = {
        "list": "List active flavors (--all includes deleted ones).",
        "create": "Create a flavor.",
        "delete": "Mark a flavor deleted (instances keep their copy); --purge removes it.",
    }

    def add_action_arguments(self, name, parser):
        if name == "list":
            parser.add_argument("--all", action="store_true", help="include deleted flavors")
        elif name == "create":
            parser.add_argument("name")
            parser.add_argument("--memory", type=int, required=True, help="MB")
            parser.add_argument("--cpu", type=int, required=True, help="vCPUs")
            parser.add_argument("--root_gb", type=int, required=True)
            parser.add_argument("--ephemeral_gb", type=int, default=0)
            parser.add_argument("--flavor", default=None, help="flavor id (default: a new UUID)")
            parser.add_argument("--swap", type=int, default=0, help="MB")
            parser.add_argument("--rxtx_factor", type=float, default=1.0)
            parser.add_argument("--private", action="store_true", help="not public")
        elif name == "delete":
            parser.add_argument("name")
            parser.add_argument("--purge", action="store_true", help="remove the row for good")

    def action_list(self, options):
        qs = Flavor.all_objects.all() if options.get("all") else Flavor.objects.all()
        for flavor in qs.order_by("memory_mb", "flavorid"):
            self.stdout.write(describe(flavor))

    def action_create(self, options):
        try:
            flavor = flavor_service.create_flavor(
                name=options["name"],
                memory_mb=options["memory"],
                vcpus=options["cpu"],
                root_gb=options["root_gb"],
                flavorid=options["flavor"],
                ephemeral_gb=options["ephemeral_gb"],
                swap=options["swap"],
                rxtx_factor=options["rxtx_factor"],
                is_public=not options["private"],
            )
        except CloudError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{flavor.name} created")

    def action_delete(self, options):
        name = options["name"]
        try:
            if options["purge"]:
                flavor_service.purge_flavor_by_name(name)
                self.stdout.write(f"{name} purged")
            else:
                flavor_service.delete_flavor(flavor_service.get_flavor_by_name(name))
                self.stdout.write(f"{name} deleted")
        except CloudError as exc:
            raise CommandError(exc.message) from exc
