"""Policy actions of the compute servers API (registered from ComputeConfig.ready)."""
from identity.services.policy import RULES, register

# The seeds' itsec role quarantines (pauses, suspends, locks) instances in any project;
# owners may still do it to their own.
RULES.setdefault(
    "admin_owner_or_itsec",
    lambda ctx, t: RULES["admin_or_owner"](ctx, t) or ctx.has_role("admin_owner_or_itsec"),
)

register(
    {
        "compute:servers:index": "project_reader_or_admin",
        "compute:hypervisors:search": "admin_api",
        "compute:tenant_networks:list": "project_reader_or_admin",
        "compute:tenant_networks:show": "project_reader_or_admin",
        "compute:hypervisors:servers": "admin_api",
        "compute:os-simple-tenant-usage:show": "project_reader_or_admin",
        "compute:servers:detail": "project_reader_or_admin",
        "compute:servers:index:get_all_tenants": "admin_api",
        "compute:servers:detail:get_all_tenants": "admin_api",
        "compute:servers:show": "project_reader_or_admin",
        "compute:servers:show:host_status": "admin_api",
        "compute:servers:create": "admin_or_owner",
        "compute:servers:create:forced_host": "admin_api",
        "compute:servers:update": "admin_or_owner",
        "compute:servers:delete": "admin_or_owner",
        "compute:servers:force_delete": "admin_or_owner",
        "compute:servers:reset_state": "admin_api",
        "compute:servers:reboot": "admin_or_owner",
        "compute:servers:start": "admin_or_owner",
        "compute:servers:stop": "admin_or_owner",
        "compute:servers:rebuild": "admin_or_owner",
        "compute:servers:create_image": "admin_or_owner",
        "compute:servers:pause": "admin_owner_or_itsec",
        "compute:servers:unpause": "admin_owner_or_itsec",
        "compute:servers:suspend": "admin_owner_or_itsec",
        "compute:servers:resume": "admin_owner_or_itsec",
        "compute:servers:lock": "admin_owner_or_itsec",
        "compute:servers:unlock": "admin_owner_or_itsec",
        "compute:servers:console_output": "admin_or_owner",
        "compute:servers:remote_consoles": "admin_or_owner",
        "compute:ips:index": "project_reader_or_admin",
        "compute:ips:show": "project_reader_or_admin",
        "compute:server_metadata:index": "project_reader_or_admin",
        "compute:server_metadata:show": "project_reader_or_admin",
        "compute:server_metadata:create": "admin_or_owner",
        "compute:server_metadata:update": "admin_or_owner",
        "compute:server_metadata:update_all": "admin_or_owner",
        "compute:server_metadata:delete": "admin_or_owner",
        "compute:instance_actions:list": "project_reader_or_admin",
        "compute:instance_actions:show": "project_reader_or_admin",
        "compute:instance_actions:events": "admin_api",
        "compute:instance_actions:events:details": "admin_api",
        "compute:keypairs:index": "admin_or_user",
        "compute:keypairs:show": "admin_or_user",
        "compute:keypairs:create": "admin_or_user",
        "compute:keypairs:delete": "admin_or_user",
        "compute:servers:show:extended_attributes": "admin_api",
    }
)
