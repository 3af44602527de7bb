"""The metadata app: the metadata service (metadata.wsgi) and, in each host agent, the DNAT
of 169.254.169.254:80 to it (set up at agent start and after an instance's network)."""
from django.apps import AppConfig

from cloudproj.host import hooks as host_hooks


class MetadataConfig(AppConfig):
    name = "metadata"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # imported by the agent only: the API process loads no iptables code
        host_hooks.register(after_network="metadata.services.host.after_network",
                            agent_start="metadata.services.host.on_agent_start",
                            cloud_teardown="metadata.services.host.teardown_cloud")
