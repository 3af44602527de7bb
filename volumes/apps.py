from importlib import import_module

from django.apps import AppConfig

from cloudproj.host import hooks as host_hooks


class VolumesConfig(AppConfig):
    name = "volumes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # imported here, not at the top: these need the app registry ready
        import_module(f"{self.name}.policies")  # registers this app's policy actions
        import_module(f"{self.name}.signals")  # connects the instance_deleted receiver
        from compute.api.server_view import register_attached_volumes
        from identity.services import quotas

        from .services.attachments import volumes_by_instance

        # the host side by dotted path: imported by the agent only, on first use
        host_hooks.register(extra_disks="volumes.services.attachments_host.disks_of_instance",
                            root_volume="volumes.services.boot_host.root_volume",
                            agent_start="volumes.agent_start.on_agent_start")
        register_attached_volumes(volumes_by_instance)
        quotas.register_type_names(_type_names)  # volumes_<type>, gigabytes_<type>, snapshots_<type>


def _type_names():
    from .models import DEFAULT_TYPE_NAME, VolumeType

    # the default type always has its keys, even while its row is missing (it is made again on use)
    return {DEFAULT_TYPE_NAME, *VolumeType.objects.values_list("name", flat=True)}
