from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_resource_types(sender, using="default", **kwargs):
    """After migrate (and after a test database flush): the standard metadefs resource types."""
    from images.services.metadefs import ensure_standard_resource_types

    if using == "default":
        ensure_standard_resource_types()


class ImagesConfig(AppConfig):
    name = "images"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        if find_spec(f"{self.name}.policies"):
            import_module(f"{self.name}.policies")  # registers this app's policy actions
        post_migrate.connect(_seed_resource_types, sender=self, dispatch_uid="images.seed_resource_types")
