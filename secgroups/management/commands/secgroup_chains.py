"""Operator command for a host's security group chains (run on that host, as root).

    ./manage.py secgroup_chains show   [--host H]   what the DB says the chains must be
    ./manage.py secgroup_chains apply  [--host H]   rewrite them now (what an agent does on start)
    ./manage.py secgroup_chains remove [--host H]   remove them and their jumps (host out of service)
"""
from django.conf import settings
from django.core.management.base import CommandError

from cloudproj.cli import CategoryCommand
from cloudproj.host.run import HostCommandError
from network.linux.validate import InvalidValue
from secgroups.linux import iptables
from secgroups.services import firewall
from secgroups.services import host as host_service


class Command(CategoryCommand):
    help = "A host's security group chains (iptables filter table): show, apply, remove."
    actions = {
        "show": "Print the iptables-restore input the DB gives for the host's chains.",
        "apply": "Rewrite the host's chains from the DB (stale ones are deleted).",
        "remove": "Remove the host's chains and their jumps from FORWARD and OUTPUT.",
    }

    def add_action_arguments(self, name, parser):
        parser.add_argument("--host", default=None, help="the host (default: CLOUD_HOST)")

    def _host(self, options) -> str:
        return options.get("host") or settings.CLOUD_HOST

    def action_show(self, options):
        host = self._host(options)
        self.stdout.write(iptables.render_host(host, firewall.host_firewalls(host)), ending="")

    def action_apply(self, options):
        try:
            report = host_service.regenerate(self._host(options))
        except (HostCommandError, InvalidValue, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{report['host']}: {report['instances']} instance chain(s) written, "
                          f"{len(report['removed'])} stale chain(s) removed")

    def action_remove(self, options):
        try:
            removed = host_service.teardown(self._host(options))
        except (HostCommandError, InvalidValue, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"removed {len(removed)} chain(s): {' '.join(removed)}".rstrip(": "))
