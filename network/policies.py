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
