"""Security group business operations (plain Python: no HTTP, no Celery).

    groups.py       create / update / delete groups, the `default` group, quotas
    rules.py        validate, create and delete rules
    membership.py   which instances are in which groups (server create, add/remove)
    refresh.py      which instances a change affects, and telling their hosts
    firewall.py     what a host must enforce, read from the DB (pure data for linux/)
    host.py         the host side: apply / regenerate / remove this host's chains

Errors subclass compute's, so compute API views turn them into 400/403/404/409 envelopes.
"""
from cloudproj.exceptions import CloudError, Conflict, Invalid, NotFound, OverQuota


class SecurityGroupError(CloudError):
    pass


class InvalidSecurityGroup(SecurityGroupError, Invalid):
    code = 400


class SecurityGroupNotFound(SecurityGroupError, NotFound):
    code = 404


class SecurityGroupConflict(SecurityGroupError, Conflict):
    code = 409


class SecurityGroupInUse(InvalidSecurityGroup):
    """A group with members cannot be deleted (400 in the compute API, 409 in Networking)."""


class SystemGroup(InvalidSecurityGroup):
    """The `default` group cannot be deleted or renamed (400 / 409 in Networking)."""


class GroupExists(InvalidSecurityGroup):
    """A group of that name is in the project already (400 / 409 in Networking: names are
    unique per project here, unlike Neutron)."""


class RuleExists(InvalidSecurityGroup):
    """The same rule is in the group already (400 / 409 SecurityGroupRuleExists)."""


class SecurityGroupOverQuota(SecurityGroupError, OverQuota):
    code = 403


__all__ = [
    "SecurityGroupError", "InvalidSecurityGroup", "SecurityGroupNotFound", "SecurityGroupConflict",
    "SecurityGroupOverQuota", "SecurityGroupInUse", "SystemGroup", "RuleExists", "GroupExists",
]
