from importlib import import_module

from django.apps import AppConfig


class VolumesConfig(AppConfig):
    name = "volumes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import_module(f"{self.name}.policies")  # registers this app's policy actions
        from cloudproj.host import hooks as host_hooks
        from compute.api.server_view import register_attached_volumes

        from .services.attachments import disks_of_instance, volumes_by_instance
        from .signals import on_agent_start  # also connects the instance_deleted receiver

        host_hooks.register(extra_disks=disks_of_instance, agent_start=on_agent_start)
        register_attached_volumes(volumes_by_instance)
