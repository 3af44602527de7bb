"""Policy actions of the floating IP calls of the compute API.

As in the seeds, allocating, releasing and (dis)associating public addresses is the job of
the `netadmin` role (in its project) or an admin; project readers and members see their
project's addresses. To let every project member do it, set e.g.
POLICY_OVERRIDES = {"compute:floating_ips:create": "admin_or_owner", ...}.
"""
from identity.services.policy import register

register({
    "compute:floating_ip_pools:list": "any_authenticated",
    "compute:floating_ips:list": "project_reader_or_admin",
    "compute:floating_ips:show": "project_reader_or_admin",
    "compute:floating_ips:create": "netadmin",
    "compute:floating_ips:delete": "netadmin",
    "compute:floating_ips:add": "netadmin",
    "compute:floating_ips:remove": "netadmin",
    # the ranges themselves (nova-manage floating create|list|delete; the dashboard's admin panel)
    "compute:floating_ranges:list": "admin_api",
    "compute:floating_ranges:create": "admin_api",
    "compute:floating_ranges:delete": "admin_api",
})
