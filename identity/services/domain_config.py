"""Keystone's default domain configuration (GET /v3/domains/config[/{group}[/{option}]]/default):
the options a domain-specific configuration may set, with the values this cloud uses. Users
live in the SQL database; the `ldap` group lists Keystone's defaults, unused here (no
domain-specific configuration can be stored: every domain uses the SQL driver)."""
import copy

from cloudproj.exceptions import NotFound

DEFAULTS: dict[str, dict] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        "url": "ldap://localhost",
        "user": None,
        "suffix": "cn=example,cn=com",
        "query_scope": "one",
        "page_size": 0,
        "alias_dereferencing": "default",
        "chase_referrals": None,
        "user_tree_dn": None,
        "user_filter": None,
        "user_objectclass": "inetOrgPerson",
        "user_id_attribute": "cn",
        "user_name_attribute": "sn",
        "user_mail_attribute": "mail",
        "group_tree_dn": None,
        "group_filter": None,
        "group_objectclass": "groupOfNames",
        "group_id_attribute": "cn",
        "group_name_attribute": "ou",
        "group_member_attribute": "member",
        "use_tls": False,
    },
}


def default_config(group: str | None = None, option: str | None = None) -> dict:
    """The whole default config, one group of it, or one option (Keystone's body shapes)."""
    if group is None:
        return copy.deepcopy(DEFAULTS)
    if group not in DEFAULTS:
        raise NotFound(f"Group {group} not found in the domain configuration (valid: identity, ldap).")
    if option is None:
        return {group: dict(DEFAULTS[group])}
    if option not in DEFAULTS[group]:
        raise NotFound(f"Option {option} not found in group {group} of the domain configuration.")
    return {option: DEFAULTS[group][option]}
