"""./manage.py image register|list|delete  (the seeds' `nova-manage image ...`)."""
from django.core.management.base import CommandError

from cloudproj.cli import CategoryCommand
from identity.models import Project
from images.services import registry
from images.models import CONTAINER_FORMATS, DISK_FORMATS, Image

ARCH_ALIASES = {"amd64": "x86_64", "x86-64": "x86_64", "i386": "i686"}


def _bool(value: str) -> bool:
    return str(value).strip().lower() in ("t", "true", "1", "yes", "y", "on")


class Command(CategoryCommand):
    help = "Manage images in the registry."
    actions = {
        "register": "Register an image file (also: image_register).",
        "image_register": "Alias of register (the seeds' spelling).",
        "list": "List images.",
        "delete": "Delete an image (soft delete; data removed from the store).",
    }

    def add_action_arguments(self, name, parser):
        if name in ("register", "image_register"):
            parser.add_argument("path")
            parser.add_argument("--name")
            parser.add_argument("--disk-format", "--disk_format", default="raw", choices=DISK_FORMATS)
            parser.add_argument("--container-format", "--container_format", choices=CONTAINER_FORMATS)
            parser.add_argument("--public", nargs="?", const="T", default="F",
                                help="make the image public (--public or --public=T)")
            parser.add_argument("--arch", help="architecture property (amd64 is stored as x86_64)")
            parser.add_argument("--kernel", help="kernel_id (an aki image)")
            parser.add_argument("--ramdisk", help="ramdisk_id (an ari image)")
            parser.add_argument("--project", help="owner project (name or id); default: the cloud")
            parser.add_argument("--property", action="append", default=[], metavar="KEY=VALUE")
        elif name == "delete":
            parser.add_argument("image", help="image id or name")
        elif name == "list":
            parser.add_argument("--all", action="store_true", help="include deleted images")

    def action_register(self, options):
        from pathlib import Path

        path = Path(options["path"])
        props = {}
        for item in options["property"]:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--property needs KEY=VALUE, got {item!r}")
            props[key] = value
        if options["arch"]:
            props["architecture"] = ARCH_ALIASES.get(options["arch"], options["arch"])
        for opt, key in (("kernel", "kernel_id"), ("ramdisk", "ramdisk_id")):
            if options[opt]:
                try:
                    props[key] = str(registry.find(options[opt]).id)
                except registry.ImageError as exc:
                    raise CommandError(exc.message) from None
        owner = None
        if options["project"]:
            owner = (Project.objects.filter(id=options["project"]).first()
                     or Project.objects.filter(name=options["project"]).first())
            if owner is None:
                raise CommandError(f"project {options['project']!r} not found")
        try:
            image = registry.register_image(
                path, options["name"] or path.name, options["disk_format"], options["container_format"],
                owner=owner, visibility=Image.PUBLIC if _bool(options["public"]) else Image.PRIVATE,
                properties=props,
            )
        except registry.ImageError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Image {image.name} registered: {image.id} ({image.size} bytes, md5 {image.checksum})")

    action_image_register = action_register

    def action_list(self, options):
        qs = Image.all_objects.all() if options["all"] else Image.objects.all()
        rows = [
            [img.id, img.name, img.status, img.visibility, img.disk_format, img.container_format, img.size,
             img.owner_id or "-", img.properties.get("architecture", "")]
            for img in qs.order_by("created_at")
        ]
        self.table(["id", "name", "status", "visibility", "disk", "container", "size", "owner", "arch"], rows)

    def action_delete(self, options):
        try:
            image = registry.delete_image(registry.find(options["image"]))
        except registry.ImageError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Image {image.id} deleted.")
