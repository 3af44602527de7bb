"""nova-manage style `service` commands: list, enable, disable, describe_resource."""
from django.core.management.base import CommandError

from cloudproj.cli import CategoryCommand
from cloudproj.exceptions import CloudError
from compute.services import hosts


def _updated_at(service) -> str:
    stamp = service.last_seen_up or service.updated_at
    return stamp.strftime("%Y-%m-%d %H:%M:%S") if stamp else ""


class Command(CategoryCommand):
    help = "Services: list, enable, disable, describe_resource (as nova-manage service)."
    actions = {
        "list": "List services: Binary Host Zone Status State Updated_At (State :-) up, XXX down).",
        "enable": "Enable a service on a host.",
        "disable": "Disable a service on a host (the scheduler then skips it).",
        "describe_resource": "Show the resources of a host: (total), (used_now), (used_max).",
    }

    def add_action_arguments(self, name, parser):
        if name == "list":
            parser.add_argument("--host", help="only this host")
            parser.add_argument("--service", help="only this binary, e.g. nova-compute")
        elif name in ("enable", "disable"):
            parser.add_argument("--host", required=True)
            parser.add_argument("--service", required=True, help="binary, e.g. nova-compute")
            if name == "disable":
                parser.add_argument("--reason", help="why it is disabled")
        elif name == "describe_resource":
            parser.add_argument("host")

    def action_list(self, options):
        rows = []
        for service in hosts.list_services(options.get("host"), options.get("service")):
            rows.append(
                [
                    service.binary,
                    service.host,
                    service.availability_zone,
                    "disabled" if service.disabled else "enabled",
                    ":-)" if hosts.service_is_up(service) else "XXX",
                    _updated_at(service),
                ]
            )
        self.table(["Binary", "Host", "Zone", "Status", "State", "Updated_At"], rows)

    def _set(self, options, disabled: bool):
        reason = options.get("reason")
        if reason is not None and not 1 <= len(reason) <= 255:
            raise CommandError("--reason must be 1-255 characters")
        try:
            service = hosts.set_service_disabled(options["host"], options["service"], disabled, reason)
        except CloudError as exc:
            raise CommandError(exc.message) from exc
        state = "disabled" if disabled else "enabled"
        self.stdout.write(f"Service {service.binary} on host {service.host} {state}.")

    def action_enable(self, options):
        self._set(options, False)

    def action_disable(self, options):
        self._set(options, True)

    def action_describe_resource(self, options):
        try:
            res = hosts.describe_resource(options["host"])
        except CloudError as exc:
            raise CommandError(exc.message) from exc
        rows = [
            [res.host, "(total)", *res.total],
            [res.host, "(used_now)", *res.used_now],
            [res.host, "(used_max)", *res.used_max],
        ]
        rows += [[res.host, project, *usage] for project, *usage in res.projects]
        self.table(["HOST", "PROJECT", "cpu", "mem(mb)", "hdd"], rows)
