"""nova-manage style `network` commands: create, list, delete."""
from django.conf import settings
from django.core.management.base import CommandError

from cloudproj.cli import CategoryCommand
from identity.models import Project
from network.models import Network
from network.services import NetworkError
from network.linux import vlan as linux_vlan
from network.services import networks as svc
from network.services import vlan as vlan_svc

TRUE, FALSE = {"t", "true", "1", "yes", "y"}, {"f", "false", "0", "no", "n"}


def _bool(value: str, option: str = "--multi_host") -> bool:
    lowered = str(value).strip().lower()
    if lowered in TRUE | FALSE:
        return lowered in TRUE
    raise CommandError(f"{option} must be T or F, not {value!r}")


class Command(CategoryCommand):
    help = "Networks (Flat, FlatDHCP, VLAN): create, list, delete."
    actions = {
        "create": "Create a network and its fixed IPs.",
        "list": "List networks.",
        "delete": "Delete a network (refused while addresses are allocated).",
    }

    def add_action_arguments(self, name, parser):
        if name == "create":
            parser.add_argument("--label", required=True)
            parser.add_argument("--fixed_range_v4", "--fixed_range", dest="fixed_range_v4", required=True)
            parser.add_argument("--num_networks", type=int, default=1)
            parser.add_argument("--network_size", type=int, default=None)
            parser.add_argument("--bridge", default=None)
            parser.add_argument("--bridge_interface", default=None)
            parser.add_argument("--dns1", default=None)
            parser.add_argument("--dns2", default=None)
            parser.add_argument("--multi_host", default="F", help="T or F")
            parser.add_argument("--project", "--project_id", dest="project", default=None)
            parser.add_argument("--host", default=None, help="network host (non multi-host)")
            parser.add_argument("--mtu", type=int, default=None)
            parser.add_argument("--injected", default=None,
                                help="T: a Flat network (no DHCP: the address goes on the guest's kernel command "
                                     "line); default T when NETWORK_MANAGER is flat")
            parser.add_argument("--vlan_start", "--vlan", dest="vlan_start", type=int, default=None,
                                help="VLAN manager: first vlan id (networks get vlan_start, vlan_start+1, ...; "
                                     "default VLAN_START when NETWORK_MANAGER is vlan)")
        elif name == "delete":
            parser.add_argument("network", nargs="?", help="CIDR, label or uuid")
            parser.add_argument("--network", dest="network_opt", default=None, help="CIDR, label or uuid")

    def action_create(self, options):
        project = None
        if options["project"]:
            project = (Project.objects.filter(name=options["project"]).first()
                       or Project.objects.filter(pk=options["project"]).first())
            if project is None:
                raise CommandError(f"project {options['project']} not found")
        common = dict(bridge=options["bridge"], bridge_interface=options["bridge_interface"], dns1=options["dns1"],
                      dns2=options["dns2"], multi_host=_bool(options["multi_host"]), project=project,
                      host=options["host"], num_networks=options["num_networks"],
                      network_size=options["network_size"], mtu=options["mtu"])
        if options["injected"] is not None:
            common["injected"] = _bool(options["injected"], "--injected")
        try:
            created = vlan_svc.create_for_manager(options["label"], options["fixed_range_v4"],
                                                  vlan_start=options["vlan_start"], **common)
        except NetworkError as exc:
            raise CommandError(exc.message) from exc
        for network in created:
            vlan = f" vlan {network.vlan}" if network.vlan is not None else ""
            self.stdout.write(f"network {network.label} created: {network.cidr} on {network.bridge}{vlan} "
                              f"({network.uuid})")

    def action_list(self, options):
        rows = [
            [n.pk, n.cidr, "None", n.gateway, n.dhcp_start, n.dns1, n.dns2, n.vlan,
             n.project.name if n.project else "None", n.uuid, n.label]
            for n in Network.objects.select_related("project").order_by("id")
        ]
        self.table(["id", "IPv4", "IPv6", "gateway", "start address", "DNS1", "DNS2", "VlanID",
                    "project", "uuid", "label"], rows)
        interfaces = sorted({n.bridge_interface or settings.VLAN_INTERFACE
                             for n in Network.objects.filter(vlan__isnull=False)})
        for interface in interfaces:  # probed once by this process, as an agent does
            supported, reason = linux_vlan.support(interface, settings.VLAN_DEVICE_PREFIX)
            note = "tagged" if supported else "bridges run untagged (isolated by iptables only)"
            self.stdout.write(f"note: VLAN networks on {interface}: {reason}; {note}")

    def action_delete(self, options):
        key = options.get("network_opt") or options.get("network")
        if not key:
            raise CommandError("give the network to delete (CIDR, label or uuid)")
        try:
            network = svc.get_network(key)
            svc.delete_network(network)
        except NetworkError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"network {network.label} ({network.cidr}) deleted")
