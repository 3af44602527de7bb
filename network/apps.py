"""The network app: nova-network's FlatDHCP networks, fixed IPs, bridges and dnsmasq."""
from importlib import import_module

from django.apps import AppConfig

from cloudproj.host import hooks as host_hooks


class NetworkConfig(AppConfig):
    name = "network"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import_module(f"{self.name}.policies")  # registers this app's policy actions
        # re-create bridges and dnsmasq, then supervise (imported by the agent only)
        host_hooks.register(agent_start="network.signals.on_agent_start",
                            cloud_teardown="network.services.host.teardown_cloud")
