"""Policy actions of the security group calls of the compute API.

Project members manage their project's groups and rules (the operations guide: "project
members can edit the default rules for their group"); an operator who wants the seeds'
stricter split sets e.g. POLICY_OVERRIDES = {"compute:security_group_rules:create": "netadmin"}.
"""
from identity.services.policy import register

register({
    "compute:security_groups:list": "project_reader_or_admin",
    "compute:security_groups:list:all_tenants": "admin_api",
    "compute:security_groups:show": "project_reader_or_admin",
    "compute:security_groups:create": "admin_or_owner",
    "compute:security_groups:update": "admin_or_owner",
    "compute:security_groups:delete": "admin_or_owner",
    "compute:security_group_rules:create": "admin_or_owner",
    "compute:security_group_rules:delete": "admin_or_owner",
    "compute:server_security_groups:list": "project_reader_or_admin",
    "compute:server_security_groups:add": "admin_or_owner",
    "compute:server_security_groups:remove": "admin_or_owner",
    # the Networking API's calls (secgroups/api/neutron.py)
    "network:security_groups:list": "project_reader_or_admin",
    "network:security_groups:show": "project_reader_or_admin",
    "network:security_groups:create": "admin_or_owner",
    "network:security_groups:update": "admin_or_owner",
    "network:security_groups:delete": "admin_or_owner",
    "network:security_group_rules:list": "project_reader_or_admin",
    "network:security_group_rules:show": "project_reader_or_admin",
    "network:security_group_rules:create": "admin_or_owner",
    "network:security_group_rules:delete": "admin_or_owner",
})
