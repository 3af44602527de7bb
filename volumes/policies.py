"""Policy actions of the Block Storage API and of Compute's volume attachments: project
members manage their project's volumes and snapshots, readers see them, admins all."""
from identity.services.policy import register

register({
    "volume:get_all": "project_reader_or_admin",
    "volume:get": "project_reader_or_admin",
    "volume:create": "admin_or_owner",
    "volume:update": "admin_or_owner",
    "volume:delete": "admin_or_owner",
    "volume:extend": "admin_or_owner",
    "volume:set_bootable": "admin_or_owner",
    "volume:force_delete": "admin_api",
    "volume:types:get_all": "any_authenticated",
    "volume:types:get": "any_authenticated",
    "volume:types:manage": "admin_api",
    "volume:types:extra_specs:get": "any_authenticated",
    "volume:extensions:list": "any_authenticated",
    "volume:capabilities:show": "admin_api",
    "volume:reset_status": "admin_api",
    "volume:snapshots:get_all": "project_reader_or_admin",
    "volume:snapshots:get": "project_reader_or_admin",
    "volume:snapshots:create": "admin_or_owner",
    "volume:snapshots:update": "admin_or_owner",
    "volume:snapshots:delete": "admin_or_owner",
    "volume:availability_zone:list": "any_authenticated",
    "volume:services:list": "admin_api",
    "compute:os-volumes-attachments:index": "project_reader_or_admin",
    "compute:os-volumes-attachments:show": "project_reader_or_admin",
    "compute:os-volumes-attachments:create": "admin_or_owner",
    "compute:os-volumes-attachments:delete": "admin_or_owner",
})
