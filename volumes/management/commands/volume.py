"""nova-manage style `volume` command: list, delete, reattach."""
from django.core.management.base import CommandError

from cloudproj.cli import CategoryCommand
from cloudproj.exceptions import CloudError
from volumes.models import Volume
from volumes.services import attachments
from volumes.services import volumes as volume_service


class Command(CategoryCommand):
    help = "Volumes: list, delete, reattach."
    actions = {
        "list": "List volumes (--host: those of that volume host).",
        "delete": "Delete a volume whatever its status (refused while it is attached).",
        "reattach": "Attach an in-use volume to its server again (after the server's host rebooted).",
    }

    def add_action_arguments(self, name, parser):
        if name == "list":
            parser.add_argument("--host", default=None)
        else:
            parser.add_argument("volume_id", help="vol-xxxxxxxx, the integer id or the uuid")

    def _volume(self, options) -> Volume:
        try:
            return volume_service.find_for_operator(options["volume_id"])
        except CloudError as exc:
            raise CommandError(exc.message) from exc

    def action_list(self, options):
        qs = Volume.objects.select_related("attachment").order_by("id")
        if options["host"]:
            qs = qs.filter(host=options["host"])
        rows = []
        for volume in qs:
            attachment = getattr(volume, "attachment", None)
            rows.append([volume.ec2_id, volume.uuid, volume.name or "-", volume.size, volume.status,
                         volume.host or "None", volume.project_id, attachment.instance_uuid if attachment else "None",
                         attachment.device if attachment and attachment.device else "-"])
        self.table(["id", "uuid", "name", "size", "status", "host", "project", "instance", "device"], rows)

    def action_delete(self, options):
        volume = self._volume(options)
        try:
            volume_service.force_delete(volume)
        except CloudError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"volume {volume.ec2_id} is being deleted on {volume.host or '(no host)'}")

    def action_reattach(self, options):
        volume = self._volume(options)
        try:
            device = attachments.reattach(volume)
        except CloudError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"volume {volume.ec2_id} attached to {volume.attachment.instance_uuid} as {device}")
