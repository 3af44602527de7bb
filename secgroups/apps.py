"""The secgroups app: security groups, their rules and members, enforced with iptables on
the compute hosts."""
from importlib import import_module

from django.apps import AppConfig

from cloudproj.host import hooks as host_hooks


class SecgroupsConfig(AppConfig):
    name = "secgroups"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Security groups"

    def ready(self):
        import_module(f"{self.name}.policies")  # registers this app's policy actions
        from compute.api.server_actions import register_action
        from compute.services import create_extensions

        from .api import server_groups
        from .services import membership

        import_module(f"{self.name}.signals")  # instance_deleted
        host = "secgroups.services.host."  # imported by the agent only: the API loads no iptables code
        host_hooks.register(after_network=host + "after_network", before_cleanup=host + "before_cleanup",
                            left_host=host + "before_cleanup", orphan_sweep=host + "sweep_orphans",
                            agent_start=host + "on_agent_start", cloud_teardown=host + "teardown_cloud")
        create_extensions.register_security_groups(membership.groups_for_create, membership.join)
        register_action("addSecurityGroup", server_groups.add_security_group)
        register_action("removeSecurityGroup", server_groups.remove_security_group)
