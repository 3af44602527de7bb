"""The network app: nova-network's FlatDHCP networks, fixed IPs, bridges and dnsmasq."""
from importlib import import_module

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "network"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import_module(f"{self.name}.policies")  # registers this app's policy actions
        import_module(f"{self.name}.signals")  # agent start-up: re-create bridges and dnsmasq
