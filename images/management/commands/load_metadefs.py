"""Load metadata definition namespaces from JSON files (Glance's `glance-manage db
load_metadefs` format: one namespace per file, with its properties, objects, tags and
resource type associations), e.g. the standard catalogue from a Glance source tree's
etc/metadefs. A namespace that already exists is skipped (or replaced with --replace)."""
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from images.models import MetadefNamespace
from images.services import metadefs
from images.services.registry import ImageError


class Command(BaseCommand):
    help = "Load metadata definition namespaces from a directory of JSON files (or one file)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a directory of *.json namespace files, or one file")
        parser.add_argument("--owner", default="admin", help="owner (project id) of the namespaces")
        parser.add_argument("--replace", action="store_true", help="replace namespaces that exist")

    def handle(self, path, owner, replace, **options):
        source = Path(path)
        files = sorted(source.glob("*.json")) if source.is_dir() else [source]
        if not files or not all(f.is_file() for f in files):
            raise CommandError(f"No namespace files at {source}.")
        loaded = skipped = 0
        for file in files:
            try:
                body = json.loads(file.read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"{file}: {exc}") from None
            name = body.get("namespace") if isinstance(body, dict) else None
            existing = MetadefNamespace.objects.filter(namespace=name).first() if isinstance(name, str) else None
            if existing is not None:
                if not replace:
                    skipped += 1
                    continue
                existing.delete()
            body = {k: v for k, v in body.items() if k in metadefs.NAMESPACE_KEYS} if isinstance(body, dict) else body
            try:
                metadefs.create_namespace(body, owner)
            except ImageError as exc:
                raise CommandError(f"{file}: {exc.message}") from None
            loaded += 1
        self.stdout.write(f"{loaded} namespaces loaded, {skipped} already present.")
