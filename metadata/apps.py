"""The metadata app: the metadata service (metadata.wsgi) and, in each host agent, the DNAT
of 169.254.169.254:80 to it (set up at agent start and after an instance's network)."""
from django.apps import AppConfig


class MetadataConfig(AppConfig):
    name = "metadata"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cloudproj.host import hooks as host_hooks

        from .services.host import after_network
        from .signals import on_agent_start

        # agent start-up: the rules of every served network, then re-checked periodically
        host_hooks.register(after_network=after_network, agent_start=on_agent_start)
