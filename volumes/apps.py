from importlib import import_module

from django.apps import AppConfig


class VolumesConfig(AppConfig):
    name = "volumes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import_module(f"{self.name}.policies")  # registers this app's policy actions
        import_module(f"{self.name}.signals")
        from cloudproj.host import hooks as host_hooks

        from .services.attachments import disks_of_instance

        host_hooks.register(extra_disks=disks_of_instance)
