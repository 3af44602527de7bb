"""The network app: nova-network's FlatDHCP networks, fixed IPs, bridges and dnsmasq."""
from importlib import import_module

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "network"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import_module(f"{self.name}.policies")  # registers this app's policy actions
        from cloudproj.host import hooks as host_hooks

        # re-create bridges and dnsmasq, then supervise (imported by the agent only)
        host_hooks.register(agent_start="network.signals.on_agent_start")
