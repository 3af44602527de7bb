from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig


class ComputeConfig(AppConfig):
    name = "compute"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        if find_spec(f"{self.name}.policies"):
            import_module(f"{self.name}.policies")  # registers this app's policy actions
        from cloudproj.host import hooks as host_hooks

        from .api.rescue_actions import register as register_rescue_actions
        from .api.resize_actions import register as register_resize_actions
        from .api.shelve_actions import register as register_shelve_actions
        from .signals import instance_deleted

        register_resize_actions()  # resize, confirmResize, revertResize (compute/services/resize.py)
        register_rescue_actions()  # rescue, unrescue (compute/services/rescue.py)
        register_shelve_actions()  # shelve, shelveOffload, unshelve (compute/services/shelve.py)
        host_hooks.register(before_cleanup="compute.services.resize_host.cleanup_files")
        instance_deleted.connect(_resize_of_deleted_instance, dispatch_uid="compute.resize.instance_deleted")


def _resize_of_deleted_instance(sender=None, instance=None, **kwargs):
    """A server deleted while it resizes: its resize claim and quota growth go too."""
    if instance is not None:
        from .services import resize, shelve

        resize.on_instance_deleted(instance)
        shelve.on_instance_deleted(instance)  # its shelved image goes too
