"""The floating app: nova-network's floating IPs (pools, allocation, association, host NAT)."""
from importlib import import_module

from django.apps import AppConfig


class FloatingConfig(AppConfig):
    name = "floating"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cloudproj.host import hooks as host_hooks
        from compute.api.server_actions import register_action
        from compute.api.server_view import register_floating_addresses

        from .api import actions
        from .services import addresses, auto_assign, host, orphans

        import_module(f"{self.name}.policies")
        from .signals import on_agent_start  # also connects the instance_deleted receiver

        host_hooks.register(after_network=auto_assign.assign, before_cleanup=host.before_cleanup,
                            orphan_sweep=orphans.sweep, agent_start=on_agent_start)
        register_floating_addresses(addresses.floating_by_fixed)
        register_action("addFloatingIp", actions.add_floating_ip)
        register_action("removeFloatingIp", actions.remove_floating_ip)
