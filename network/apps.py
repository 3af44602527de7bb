from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "network"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        if find_spec(f"{self.name}.policies"):
            import_module(f"{self.name}.policies")  # registers this app's policy actions
