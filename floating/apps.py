"""The floating app: nova-network's floating IPs (pools, allocation, association, host NAT)."""
from importlib import import_module

from django.apps import AppConfig

from cloudproj.host import hooks as host_hooks


class FloatingConfig(AppConfig):
    name = "floating"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from compute.api.server_actions import register_action
        from compute.api.server_view import register_floating_addresses

        from .api import actions
        from .services import addresses, auto_assign

        import_module(f"{self.name}.policies")
        import_module(f"{self.name}.signals")  # instance_deleted
        # imported by the agent only: the API process loads no NAT code
        host_hooks.register(after_network="floating.services.host.follow_instance")
        host_hooks.register(after_network=auto_assign.assign, before_cleanup="floating.services.host.before_cleanup",
                            orphan_sweep="floating.services.orphans.sweep",
                            agent_start="floating.services.host.start_agent",
                            cloud_teardown="floating.services.host.teardown_cloud")
        register_floating_addresses(addresses.floating_by_fixed)
        # nova-network's proxies: gone from microversion 2.44 (404), as in Nova
        register_action("addFloatingIp", actions.add_floating_ip, removed_in=(2, 44))
        register_action("removeFloatingIp", actions.remove_floating_ip, removed_in=(2, 44))
