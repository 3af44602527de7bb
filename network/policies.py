"""Policy actions of the nova-network calls of the compute API."""
from identity.services.policy import register

register({
    "compute:networks:list": "any_authenticated",
    "compute:networks:show": "any_authenticated",
    "compute:networks:create": "admin_api",
    "compute:networks:delete": "admin_api",
    "compute:networks:associate": "admin_api",  # os-networks/add, action associate_host
    "compute:networks:disassociate": "admin_api",  # action disassociate(_project|_host)
})

# The Networking API v2.0 (network/api/neutron/): Neutron's default policy, simplified.
register({
    "network:get_network": "any_authenticated",  # the view shows only what the project may see
    "network:create_network": "admin_api",
    "network:update_network": "admin_api",
    "network:delete_network": "admin_api",
    "network:get_subnet": "any_authenticated",
    "network:create_subnet": "admin_api",
    "network:update_subnet": "admin_api",
    "network:delete_subnet": "admin_api",
    "network:get_port": "project_reader_or_admin",
    "network:get_quota": "project_reader_or_admin",
    "network:list_quotas": "admin_api",
    "network:update_quota": "admin_api",
    "network:delete_quota": "admin_api",
    "network:get_extension": "any_authenticated",
})
