"""The metadata app: the metadata service (metadata.wsgi) and, in each host agent, the DNAT
of 169.254.169.254:80 to it (set up at agent start and after an instance's network)."""
from importlib import import_module

from django.apps import AppConfig


class MetadataConfig(AppConfig):
    name = "metadata"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cloudproj.host import hooks as host_hooks

        from .host import after_network

        host_hooks.register(after_network=after_network)
        import_module(f"{self.name}.signals")  # agent start-up: the rules of every served network
