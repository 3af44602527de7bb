"""Tenant-isolation matrix over every URL pattern Django resolves (APIs and dashboard).

Every pattern of the root URLconf must be classified in ROUTES, with a probe (a concrete
request) for it; a pattern nobody classified fails `test_every_url_pattern_is_classified`, so a
new API route or dashboard page cannot land without saying who may use it. The metadata
service is not here: it has its own URLconf (metadata/urls.py), no tokens, and is tested in
metadata/tests (it answers only the asking instance).

Kinds (what the probe proves, as alice, a member of project A):
  PUBLIC   no token or session needed (the probe, sent anonymously, is not 401/403)
  ANY      any valid token/session, nothing project-owned (anonymous: 401, or the login page)
  ADMIN    admin only: 403 for alice (in the API's error envelope)
  OWNED    an object of project B (or bob's): 404 for alice, with the envelope (no disclosure)
  SCOPED   a collection: alice's answer never contains project B's objects
  DJANGO_ADMIN  everything under /admin/: Django's admin site, staff only (alice is sent
           to its login page)
"""
import dataclasses
import io
import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve

from cloudproj.testing.clients import TokenClient
from compute.services import flavors as flavor_services
from compute.services import instances
from identity.services import accounts as identity_services
from identity.services import tokens

pytestmark = pytest.mark.django_db

PUBLIC, ANY, ADMIN, OWNED, SCOPED, DJANGO_ADMIN = "public", "any", "admin", "owned", "scoped", "django-admin"


@dataclass
class Probe:
    method: str
    path: str  # placeholders: {a} {b} project ids, {me} alice's project, {server} {flavor} {image}
    # {volume} {snapshot} {group} {rule} {fip} {fip_address} {keypair} {bob} {alice} {ec2} {role}
    # {group_uuid} {rule_uuid} {fip_network} {appcred} {id_group} (an identity group) {region} {service}
    # {endpoint} {registered_limit} {b_limit} (a limit of project B): see `world`
    body: dict | None = None
    kind: str | None = None  # a probe of another kind than its route's (an admin-only write)
    status: int | None = None  # a refusal that is not the kind's usual status (see where it is set)
    says: str = ""  # a dashboard form refused with a message: the page it leads to says this


@dataclass
class Route:
    kind: str
    probes: list[Probe] = field(default_factory=list)


def R(kind, *probes):
    return Route(kind, [p if isinstance(p, Probe) else Probe(*p) for p in probes])


C = "/compute/v2.1"
V = "/volume/v3"
I3 = "/identity/v3"
IMG = "/image/v2"
MD = IMG + "/metadefs/namespaces/b-only-ns"  # project B's private metadef namespace
D = "/dashboard"
S = "/dashboard/instances/{server}"
C_RE = "compute/^v2\\.1/"
C_INC = "compute/v2.1/^"
V_RE = "volume/^v3/(?P<project_id>[^/]+)/"
ID_RE = "(?P<{}>[^/]+)"
N = "/network/v2.0"
N_INC = "network/v2.0/^"
J = "(?:\\.json)?/?$"


def _n(name):
    return f"(?P<{name}>[^/.]+)"


def _re(name):
    return ID_RE.format(name)


# Keystone v3 routes are mounted twice (/identity/v3/ and the root alias /v3/): one table.
IDENTITY_V3 = {
    "^auth/tokens/?$": R(PUBLIC, ("post", I3 + "/auth/tokens", {"auth": {}})),
    "^auth/catalog/?$": R(ANY, ("get", I3 + "/auth/catalog")),
    "^auth/projects/?$": R(SCOPED, ("get", I3 + "/auth/projects")),
    "^auth/domains/?$": R(SCOPED, ("get", I3 + "/auth/domains")),
    "^projects/?$": R(ADMIN, ("get", I3 + "/projects"), ("post", I3 + "/projects", {"project": {"name": "x"}})),
    f"^projects/{_re('project_id')}/?$": R(
        OWNED, ("get", I3 + "/projects/{b}"), Probe("patch", I3 + "/projects/{b}", {"project": {"name": "x"}}, ADMIN),
        Probe("delete", I3 + "/projects/{b}", kind=ADMIN)),
    f"^projects/{_re('project_id')}/users/{_re('user_id')}/roles/?$": R(
        ADMIN, ("get", I3 + "/projects/{a}/users/{alice}/roles")),
    f"^projects/{_re('project_id')}/users/{_re('user_id')}/roles/{_re('role_id')}/?$": R(
        ADMIN, ("put", I3 + "/projects/{a}/users/{alice}/roles/{role}"),
        ("delete", I3 + "/projects/{a}/users/{alice}/roles/{role}")),
    "^domains/?$": R(ANY, ("get", I3 + "/domains")),
    f"^domains/{_re('domain_id')}/?$": R(ANY, ("get", I3 + "/domains/default")),
    "^users/?$": R(ADMIN, ("get", I3 + "/users"), ("post", I3 + "/users", {"user": {"name": "eve"}})),
    # another user's record: Keystone's admin_or_user rule answers 403 (users are not project-owned)
    f"^users/{_re('user_id')}/?$": R(ADMIN, ("get", I3 + "/users/{bob}"), ("patch", I3 + "/users/{bob}", {"user": {}}),
                                     ("delete", I3 + "/users/{bob}")),
    f"^users/{_re('user_id')}/password/?$": R(
        ADMIN, ("post", I3 + "/users/{bob}/password", {"user": {"password": "x", "original_password": "y"}})),
    f"^users/{_re('user_id')}/projects/?$": R(ADMIN, ("get", I3 + "/users/{bob}/projects")),
    f"^users/{_re('user_id')}/credentials/OS-EC2/?$": R(
        ADMIN, ("get", I3 + "/users/{bob}/credentials/OS-EC2"),
        ("post", I3 + "/users/{bob}/credentials/OS-EC2", {"tenant_id": "{a}"})),
    f"^users/{_re('user_id')}/credentials/OS-EC2/{_re('access')}/?$": R(
        ADMIN, ("get", I3 + "/users/{bob}/credentials/OS-EC2/{ec2}"),
        ("delete", I3 + "/users/{bob}/credentials/OS-EC2/{ec2}")),
    "^roles/?$": R(ANY, ("get", I3 + "/roles")),
    f"^roles/{_re('role_id')}/?$": R(ANY, ("get", I3 + "/roles/{role}")),
    "^role_assignments/?$": R(ADMIN, ("get", I3 + "/role_assignments")),
    # groups and every grant to a group or on a domain: admin_api (a group is not project-owned)
    "^groups/?$": R(ADMIN, ("get", I3 + "/groups"), ("post", I3 + "/groups", {"group": {"name": "x"}})),
    f"^groups/{_re('group_id')}/?$": R(
        ADMIN, ("get", I3 + "/groups/{id_group}"), ("patch", I3 + "/groups/{id_group}", {"group": {"name": "x"}}),
        ("delete", I3 + "/groups/{id_group}")),
    f"^groups/{_re('group_id')}/users/?$": R(ADMIN, ("get", I3 + "/groups/{id_group}/users")),
    f"^groups/{_re('group_id')}/users/{_re('user_id')}/?$": R(
        ADMIN, ("put", I3 + "/groups/{id_group}/users/{alice}"), ("get", I3 + "/groups/{id_group}/users/{bob}"),
        ("delete", I3 + "/groups/{id_group}/users/{bob}")),
    # another user's groups: admin_or_user, 403 (like /users/{bob}/projects)
    f"^users/{_re('user_id')}/groups/?$": R(ADMIN, ("get", I3 + "/users/{bob}/groups")),
    f"^domains/{_re('domain_id')}/users/{_re('user_id')}/roles/?$": R(
        ADMIN, ("get", I3 + "/domains/default/users/{bob}/roles")),
    f"^domains/{_re('domain_id')}/users/{_re('user_id')}/roles/{_re('role_id')}/?$": R(
        ADMIN, ("put", I3 + "/domains/default/users/{alice}/roles/{role}"),
        ("get", I3 + "/domains/default/users/{bob}/roles/{role}"),
        ("delete", I3 + "/domains/default/users/{bob}/roles/{role}")),
    f"^domains/{_re('domain_id')}/groups/{_re('group_id')}/roles/?$": R(
        ADMIN, ("get", I3 + "/domains/default/groups/{id_group}/roles")),
    f"^domains/{_re('domain_id')}/groups/{_re('group_id')}/roles/{_re('role_id')}/?$": R(
        ADMIN, ("put", I3 + "/domains/default/groups/{id_group}/roles/{role}"),
        ("get", I3 + "/domains/default/groups/{id_group}/roles/{role}"),
        ("delete", I3 + "/domains/default/groups/{id_group}/roles/{role}")),
    f"^projects/{_re('project_id')}/groups/{_re('group_id')}/roles/?$": R(
        ADMIN, ("get", I3 + "/projects/{b}/groups/{id_group}/roles")),
    f"^projects/{_re('project_id')}/groups/{_re('group_id')}/roles/{_re('role_id')}/?$": R(
        ADMIN, ("put", I3 + "/projects/{a}/groups/{id_group}/roles/{role}"),
        ("put", I3 + "/projects/{b}/groups/{id_group}/roles/{role}"),
        ("get", I3 + "/projects/{b}/groups/{id_group}/roles/{role}"),
        ("delete", I3 + "/projects/{b}/groups/{id_group}/roles/{role}")),
    # application credentials belong to a user: another user's list is a 403 (admin_or_user);
    # bob's credential under alice's own URL is a 404, and alice's list never shows it
    f"^users/{_re('user_id')}/application_credentials/?$": R(
        ADMIN, ("get", I3 + "/users/{bob}/application_credentials"),
        ("post", I3 + "/users/{bob}/application_credentials", {"application_credential": {"name": "x"}}),
        Probe("get", I3 + "/users/{alice}/application_credentials", kind=SCOPED)),
    f"^users/{_re('user_id')}/application_credentials/{_re('credential_id')}/?$": R(
        OWNED, ("get", I3 + "/users/{alice}/application_credentials/{appcred}"),
        ("delete", I3 + "/users/{alice}/application_credentials/{appcred}"),
        Probe("get", I3 + "/users/{bob}/application_credentials/{appcred}", kind=ADMIN),
        Probe("delete", I3 + "/users/{bob}/application_credentials/{appcred}", kind=ADMIN)),
    # the catalog: regions are readable by any token, services and endpoints are admin only
    "^regions/?$": R(ANY, ("get", I3 + "/regions"),
                     Probe("post", I3 + "/regions", {"region": {"id": "x-region"}}, ADMIN)),
    f"^regions/{_re('region_id')}/?$": R(
        ANY, ("get", I3 + "/regions/{region}"),
        Probe("put", I3 + "/regions/x-region", {"region": {}}, ADMIN),
        Probe("patch", I3 + "/regions/{region}", {"region": {"description": "x"}}, ADMIN),
        Probe("delete", I3 + "/regions/{region}", kind=ADMIN)),
    "^services/?$": R(ADMIN, ("get", I3 + "/services"), ("post", I3 + "/services", {"service": {"type": "x"}})),
    f"^services/{_re('service_id')}/?$": R(
        ADMIN, ("get", I3 + "/services/{service}"), ("patch", I3 + "/services/{service}", {"service": {"name": "x"}}),
        ("delete", I3 + "/services/{service}")),
    "^endpoints/?$": R(ADMIN, ("get", I3 + "/endpoints"),
                       ("post", I3 + "/endpoints", {"endpoint": {"service_id": "{service}", "interface": "public",
                                                                 "url": "http://x/"}})),
    f"^endpoints/{_re('endpoint_id')}/?$": R(
        ADMIN, ("get", I3 + "/endpoints/{endpoint}"),
        ("patch", I3 + "/endpoints/{endpoint}", {"endpoint": {"url": "http://x/"}}),
        ("delete", I3 + "/endpoints/{endpoint}")),
    # unified limits: registered (default) limits are the cloud's, a project's limits are its own
    "^registered_limits/?$": R(
        ANY, ("get", I3 + "/registered_limits"),
        Probe("post", I3 + "/registered_limits", {"registered_limits": [
            {"service_id": "{service}", "resource_name": "x", "default_limit": 1}]}, ADMIN)),
    f"^registered_limits/{_re('limit_id')}/?$": R(
        ANY, ("get", I3 + "/registered_limits/{registered_limit}"),
        Probe("patch", I3 + "/registered_limits/{registered_limit}", {"registered_limit": {"default_limit": 9}},
              ADMIN),
        Probe("delete", I3 + "/registered_limits/{registered_limit}", kind=ADMIN)),
    "^limits/model/?$": R(ANY, ("get", I3 + "/limits/model")),
    "^limits/?$": R(
        # (a filter on B's resource name, not on B's id: the answer's self link repeats the query)
        SCOPED, ("get", I3 + "/limits"), ("get", I3 + "/limits?resource_name=b-cores"),
        Probe("post", I3 + "/limits", {"limits": [{"project_id": "{a}", "service_id": "{service}",
                                                   "resource_name": "b-cores", "resource_limit": 99}]}, ADMIN)),
    f"^limits/{_re('limit_id')}/?$": R(
        OWNED, ("get", I3 + "/limits/{b_limit}"),
        Probe("patch", I3 + "/limits/{b_limit}", {"limit": {"resource_limit": 99}}, ADMIN),
        Probe("delete", I3 + "/limits/{b_limit}", kind=ADMIN)),
    # --- system role assignments (helper idn2) ---
    f"^system/users/{_re('user_id')}/roles/?$": R(ADMIN, ("get", I3 + "/system/users/{alice}/roles")),
    f"^system/users/{_re('user_id')}/roles/{_re('role_id')}/?$": R(
        ADMIN, ("put", I3 + "/system/users/{alice}/roles/{role}"), ("get", I3 + "/system/users/{alice}/roles/{role}"),
        ("delete", I3 + "/system/users/{alice}/roles/{role}")),
    f"^system/groups/{_re('group_id')}/roles/?$": R(ADMIN, ("get", I3 + "/system/groups/nogroup/roles")),
    f"^system/groups/{_re('group_id')}/roles/{_re('role_id')}/?$": R(
        ADMIN, ("put", I3 + "/system/groups/nogroup/roles/{role}"),
        ("delete", I3 + "/system/groups/nogroup/roles/{role}")),
    # /v3/credentials: a user's own; bob's ec2 credential is Keystone's admin_or_user 403 (helper idn2)
    "^credentials/?$": R(SCOPED, ("get", I3 + "/credentials"), ("get", I3 + "/credentials?user_id={bob}"),
                         Probe("post", I3 + "/credentials",
                               {"credential": {"user_id": "{bob}", "type": "totp", "blob": "x"}}, ADMIN)),
    f"^credentials/{_re('credential_id')}/?$": R(
        ADMIN, ("get", I3 + "/credentials/{ec2_cred}"), ("patch", I3 + "/credentials/{ec2_cred}", {"credential": {}}),
        ("delete", I3 + "/credentials/{ec2_cred}")),
    # project tags: project B's are not disclosed; changing them is admin only (helper idn2)
    f"^projects/{_re('project_id')}/tags/?$": R(
        OWNED, ("get", I3 + "/projects/{b}/tags"), Probe("put", I3 + "/projects/{b}/tags", {"tags": ["x"]}, ADMIN),
        Probe("delete", I3 + "/projects/{b}/tags", kind=ADMIN)),
    f"^projects/{_re('project_id')}/tags/{_re('tag')}/?$": R(
        OWNED, ("get", I3 + "/projects/{b}/tags/x"), Probe("put", I3 + "/projects/{b}/tags/x", kind=ADMIN),
        Probe("delete", I3 + "/projects/{b}/tags/x", kind=ADMIN)),
    # Keystone's default domain configuration (helper idn2)
    "^domains/config/default/?$": R(ADMIN, ("get", I3 + "/domains/config/default")),
    f"^domains/config/{_re('group')}/default/?$": R(ADMIN, ("get", I3 + "/domains/config/ldap/default")),
    f"^domains/config/{_re('group')}/{_re('option')}/default/?$": R(
        ADMIN, ("get", I3 + "/domains/config/ldap/url/default")),
    # implied roles, /v3/policies and OS-INHERIT grants: admin_api (helper tempest)
    f"^roles/{_re('prior_role_id')}/implies/?$": R(ADMIN, ("get", I3 + "/roles/{role}/implies")),
    f"^roles/{_re('prior_role_id')}/implies/{_re('implied_role_id')}/?$": R(
        ADMIN, ("put", I3 + "/roles/{role}/implies/{role}"), ("get", I3 + "/roles/{role}/implies/{role}"),
        ("delete", I3 + "/roles/{role}/implies/{role}")),
    "^role_inferences/?$": R(ADMIN, ("get", I3 + "/role_inferences")),
    "^OS-EP-FILTER/endpoint_groups/?$": R(ADMIN, ("get", I3 + "/OS-EP-FILTER/endpoint_groups"), (
        "post", I3 + "/OS-EP-FILTER/endpoint_groups", {"endpoint_group": {"name": "g", "filters": {"interface": "public"}}})),
    f"^OS-EP-FILTER/endpoint_groups/{_re('group_id')}/?$": R(
        ADMIN, ("get", I3 + "/OS-EP-FILTER/endpoint_groups/x"), ("delete", I3 + "/OS-EP-FILTER/endpoint_groups/x"),
        ("patch", I3 + "/OS-EP-FILTER/endpoint_groups/x", {"endpoint_group": {}})),
    "^policies/?$": R(ADMIN, ("get", I3 + "/policies"), ("post", I3 + "/policies", {"policy": {"type": "t", "blob": "b"}})),
    f"^policies/{_re('policy_id')}/?$": R(
        ADMIN, ("get", I3 + "/policies/x"), ("patch", I3 + "/policies/x", {"policy": {}}), ("delete", I3 + "/policies/x")),
    f"^OS-INHERIT/(?:domains/{_re('domain_id')}|projects/{_re('project_id')})/"
    f"(?:users/{_re('user_id')}|groups/{_re('group_id')})/roles/inherited_to_projects/?$": R(
        ADMIN, ("get", I3 + "/OS-INHERIT/projects/{b}/users/{bob}/roles/inherited_to_projects"),
        ("get", I3 + "/OS-INHERIT/domains/default/groups/{id_group}/roles/inherited_to_projects")),
    f"^OS-INHERIT/(?:domains/{_re('domain_id')}|projects/{_re('project_id')})/"
    f"(?:users/{_re('user_id')}|groups/{_re('group_id')})/roles/{_re('role_id')}/inherited_to_projects/?$": R(
        ADMIN, ("put", I3 + "/OS-INHERIT/projects/{a}/users/{alice}/roles/{role}/inherited_to_projects"),
        ("get", I3 + "/OS-INHERIT/domains/default/users/{alice}/roles/{role}/inherited_to_projects"),
        ("delete", I3 + "/OS-INHERIT/projects/{b}/groups/{id_group}/roles/{role}/inherited_to_projects")),
}
ADMIN_ONLY_WRITES_ON_ROLES = [("post", I3 + "/roles", {"role": {"name": "boss"}}),
                              ("delete", I3 + "/roles/{role}")]

ROUTES: dict[str, Route] = {
    # --- identity -------------------------------------------------------------------------
    "identity/^$": R(PUBLIC, ("get", "/identity/")),
    "^identity$": R(PUBLIC, ("get", "/identity")),
    "identity/^v3/?$": R(PUBLIC, ("get", "/identity/v3")),
    "^v3/?$": R(PUBLIC, ("get", "/v3")),
    "identity/^v2\\.0/?$": R(PUBLIC, ("get", "/identity/v2.0")),
    "^v2\\.0/?$": R(PUBLIC, ("get", "/v2.0")),
    "identity/^v2\\.0/tokens/?$": R(PUBLIC, ("post", "/identity/v2.0/tokens", {"auth": {}})),
    "^v2\\.0/tokens/?$": R(PUBLIC, ("post", "/v2.0/tokens", {"auth": {}})),
    # --- compute --------------------------------------------------------------------------
    "compute/^$": R(PUBLIC, ("get", "/compute/")),
    "compute/^v2\\.1/?$": R(PUBLIC, ("get", C)),
    C_RE + "flavors/?$": R(SCOPED, ("get", C + "/flavors"), Probe("post", C + "/flavors", {"flavor": {}})),
    C_RE + "flavors/detail/?$": R(SCOPED, ("get", C + "/flavors/detail")),
    # a private flavor of project B: 404 for A (its extra specs and access list too)
    C_RE + f"flavors/{_re('flavor_id')}/?$": R(OWNED, ("get", C + "/flavors/{flavor}")),
    C_RE + f"flavors/{_re('flavor_id')}/os-extra_specs/?$": R(OWNED, ("get", C + "/flavors/{flavor}/os-extra_specs")),
    C_RE + f"flavors/{_re('flavor_id')}/os-extra_specs/{_re('key')}/?$": R(
        ADMIN, ("put", C + "/flavors/1/os-extra_specs/k", {"k": "v"}), ("delete", C + "/flavors/1/os-extra_specs/k")),
    C_RE + f"flavors/{_re('flavor_id')}/os-flavor-access/?$": R(ADMIN, ("get", C + "/flavors/1/os-flavor-access")),
    C_RE + f"flavors/{_re('flavor_id')}/action/?$": R(
        ADMIN, ("post", C + "/flavors/{flavor}/action", {"addTenantAccess": {"tenant": "{a}"}})),
    C_RE + "os-services/?$": R(ADMIN, ("get", C + "/os-services")),
    C_RE + f"os-services/{_re('key')}/?$": R(ADMIN, ("put", C + "/os-services/disable",
                                                     {"host": "h", "binary": "nova-compute"})),
    C_RE + "os-hypervisors/?$": R(ADMIN, ("get", C + "/os-hypervisors")),
    C_RE + "os-hypervisors/detail/?$": R(ADMIN, ("get", C + "/os-hypervisors/detail")),
    C_RE + "os-hypervisors/statistics/?$": R(ADMIN, ("get", C + "/os-hypervisors/statistics")),
    C_RE + f"os-hypervisors/{_re('hypervisor_id')}/?$": R(ADMIN, ("get", C + "/os-hypervisors/1")),
    C_RE + f"os-hypervisors/{_re('hypervisor_id')}/uptime/?$": R(ADMIN, ("get", C + "/os-hypervisors/1/uptime")),
    C_RE + f"os-hypervisors/{_re('pattern')}/search/?$": R(ADMIN, ("get", C + "/os-hypervisors/host/search")),
    C_RE + f"os-hypervisors/{_re('pattern')}/servers/?$": R(ADMIN, ("get", C + "/os-hypervisors/host/servers")),
    C_RE + "os-aggregates/?$": R(ADMIN, ("get", C + "/os-aggregates"),
                                 ("post", C + "/os-aggregates", {"aggregate": {"name": "x"}})),
    C_RE + f"os-aggregates/{_re('aggregate_id')}/?$": R(
        ADMIN, ("get", C + "/os-aggregates/1"), ("put", C + "/os-aggregates/1", {"aggregate": {"name": "y"}}),
        ("delete", C + "/os-aggregates/1")),
    C_RE + f"os-aggregates/{_re('aggregate_id')}/action/?$": R(
        ADMIN, ("post", C + "/os-aggregates/1/action", {"add_host": {"host": "h"}})),
    C_RE + "os-server-groups/?$": R(SCOPED, ("get", C + "/os-server-groups"),
                                    ("get", C + "/os-server-groups?all_projects=1")),
    C_RE + f"os-server-groups/{_re('group_id')}/?$": R(
        OWNED, ("get", C + "/os-server-groups/{server_group}"), ("delete", C + "/os-server-groups/{server_group}")),
    C_RE + "os-migrations/?$": R(ADMIN, ("get", C + "/os-migrations")),
    C_RE + f"servers/{_re('server_id')}/diagnostics/?$": R(OWNED, ("get", C + "/servers/{server}/diagnostics")),
    C_RE + f"servers/{_re('server_id')}/migrations/?$": R(OWNED, ("get", C + "/servers/{server}/migrations")),
    C_RE + f"servers/{_re('server_id')}/migrations/{_re('migration_id')}/?$": R(
        OWNED, ("get", C + "/servers/{server}/migrations/1"), ("delete", C + "/servers/{server}/migrations/1")),
    C_RE + f"servers/{_re('server_id')}/migrations/{_re('migration_id')}/action/?$": R(
        OWNED, ("post", C + "/servers/{server}/migrations/1/action", {"force_complete": None})),
    C_RE + f"servers/{_re('server_id')}/topology/?$": R(OWNED, ("get", C + "/servers/{server}/topology")),
    C_RE + "extensions/?$": R(ANY, ("get", C + "/extensions")),
    C_RE + f"images/{_re('image_id')}/metadata/?$": R(
        OWNED, ("get", C + "/images/{image}/metadata"), ("post", C + "/images/{image}/metadata", {"metadata": {}})),
    C_RE + f"images/{_re('image_id')}/metadata/{_re('key')}/?$": R(
        OWNED, ("get", C + "/images/{image}/metadata/k"), ("delete", C + "/images/{image}/metadata/k")),
    C_RE + "os-volumes/?$": R(SCOPED, ("get", C + "/os-volumes")),
    C_RE + "os-volumes/detail/?$": R(SCOPED, ("get", C + "/os-volumes/detail")),
    C_RE + f"os-volumes/{_re('volume_id')}/?$": R(
        OWNED, ("get", C + "/os-volumes/{volume}"), ("delete", C + "/os-volumes/{volume}")),
    C_RE + "os-snapshots/?$": R(SCOPED, ("get", C + "/os-snapshots")),
    C_RE + "os-snapshots/detail/?$": R(SCOPED, ("get", C + "/os-snapshots/detail")),
    C_RE + f"os-snapshots/{_re('snapshot_id')}/?$": R(
        OWNED, ("get", C + "/os-snapshots/{snapshot}"), ("delete", C + "/os-snapshots/{snapshot}")),
    C_RE + "os-tenant-networks/?$": R(SCOPED, ("get", C + "/os-tenant-networks")),
    C_RE + f"os-tenant-networks/{_re('network_id')}/?$": R(OWNED, ("get", C + "/os-tenant-networks/{network}")),
    C_RE + f"extensions/{_re('alias')}/?$": R(ANY, ("get", C + "/extensions/os-keypairs")),
    C_RE + "os-availability-zone/?$": R(ANY, ("get", C + "/os-availability-zone")),
    C_RE + "os-availability-zone/detail/?$": R(ADMIN, ("get", C + "/os-availability-zone/detail")),
    C_RE + "servers/?$": R(SCOPED, ("get", C + "/servers"), ("get", C + "/servers?all_tenants=0&project_id={b}")),
    C_RE + "servers/detail/?$": R(SCOPED, ("get", C + "/servers/detail"),
                                  ("get", C + "/servers/detail?tenant_id={b}")),
    C_RE + f"servers/{_re('server_id')}/?$": R(
        OWNED, ("get", C + "/servers/{server}"), ("put", C + "/servers/{server}", {"server": {"name": "x"}}),
        ("delete", C + "/servers/{server}")),
    C_RE + f"servers/{_re('server_id')}/action/?$": R(
        OWNED, ("post", C + "/servers/{server}/action", {"reboot": {"type": "HARD"}}),
        ("post", C + "/servers/{server}/action", {"os-getConsoleOutput": {}}),
        ("post", C + "/servers/{server}/action", {"addSecurityGroup": {"name": "default"}}),
        ("post", C + "/servers/{server}/action", {"createImage": {"name": "x"}}),
        ("post", C + "/servers/{server}/action", {"lock": None}),
        ("post", C + "/servers/{server}/action", {"unlock": None})),
    C_RE + f"servers/{_re('server_id')}/metadata/?$": R(
        OWNED, ("get", C + "/servers/{server}/metadata"),
        ("post", C + "/servers/{server}/metadata", {"metadata": {"a": "b"}}),
        ("put", C + "/servers/{server}/metadata", {"metadata": {"a": "b"}})),
    C_RE + f"servers/{_re('server_id')}/metadata/{_re('key')}/?$": R(
        OWNED, ("get", C + "/servers/{server}/metadata/owner"),
        ("put", C + "/servers/{server}/metadata/owner", {"meta": {"owner": "a"}}),
        ("delete", C + "/servers/{server}/metadata/owner")),
    C_RE + f"servers/{_re('server_id')}/ips/?$": R(OWNED, ("get", C + "/servers/{server}/ips")),
    C_RE + f"servers/{_re('server_id')}/ips/{_re('network_label')}/?$": R(
        OWNED, ("get", C + "/servers/{server}/ips/private")),
    # key pairs belong to a user: bob's pair name is unknown to alice
    C_RE + "os-keypairs/?$": R(SCOPED, ("get", C + "/os-keypairs")),
    C_RE + f"os-keypairs/{_re('name')}/?$": R(OWNED, ("get", C + "/os-keypairs/{keypair}"),
                                              ("delete", C + "/os-keypairs/{keypair}")),
    C_RE + f"servers/{_re('server_id')}/tags/?$": R(
        OWNED, ("get", C + "/servers/{server}/tags"), ("put", C + "/servers/{server}/tags", {"tags": ["t"]}),
        ("delete", C + "/servers/{server}/tags")),
    C_RE + f"servers/{_re('server_id')}/tags/{_re('tag')}/?$": R(
        OWNED, ("get", C + "/servers/{server}/tags/t"), ("put", C + "/servers/{server}/tags/t"),
        ("delete", C + "/servers/{server}/tags/t")),
    C_INC + f"os-console-auth-tokens/{_re('token')}/?$": R(
        ADMIN, ("get", C + "/os-console-auth-tokens/t")),
    # 2.22-2.24 (a 404 at the probes' 2.1 too: the server is looked up first)
    C_RE + f"servers/{_re('server_id')}/migrations/?$": R(OWNED, ("get", C + "/servers/{server}/migrations")),
    C_RE + f"servers/{_re('server_id')}/migrations/{_re('migration_id')}/?$": R(
        OWNED, ("get", C + "/servers/{server}/migrations/1"), ("delete", C + "/servers/{server}/migrations/1")),
    C_RE + f"servers/{_re('server_id')}/migrations/{_re('migration_id')}/action/?$": R(
        OWNED, ("post", C + "/servers/{server}/migrations/1/action", {"force_complete": None})),
    C_RE + f"servers/{_re('server_id')}/os-instance-actions/?$": R(
        OWNED, ("get", C + "/servers/{server}/os-instance-actions")),
    C_RE + f"servers/{_re('server_id')}/os-instance-actions/{_re('request_id')}/?$": R(
        OWNED, ("get", C + "/servers/{server}/os-instance-actions/req-b")),
    C_INC + f"os-quota-sets/{_re('project_id')}/defaults/?$": R(ANY, ("get", C + "/os-quota-sets/{a}/defaults")),
    C_INC + f"os-quota-sets/{_re('project_id')}/detail/?$": R(OWNED, ("get", C + "/os-quota-sets/{b}/detail")),
    C_INC + f"os-quota-sets/{_re('project_id')}/?$": R(
        OWNED, ("get", C + "/os-quota-sets/{b}"), Probe("put", C + "/os-quota-sets/{b}", {"quota_set": {}}, ADMIN)),
    C_INC + f"os-quota-class-sets/{_re('class_name')}/?$": R(
        ADMIN, ("get", C + "/os-quota-class-sets/default"),
        ("put", C + "/os-quota-class-sets/default", {"quota_class_set": {"instances": 99}})),
    C_INC + "limits/?$": R(SCOPED, ("get", C + "/limits"), Probe("get", C + "/limits?tenant_id={b}")),
    C_INC + "os-networks/?$": R(SCOPED, ("get", C + "/os-networks"),
                                Probe("post", C + "/os-networks", {"network": {"label": "x"}})),
    C_INC + "os-networks/add/?$": R(ADMIN, ("post", C + "/os-networks/add", {"id": None})),
    C_INC + f"os-networks/{_re('network_id')}/action/?$": R(
        ADMIN, ("post", C + "/os-networks/{network}/action", {"disassociate": None})),
    C_INC + f"os-networks/{_re('network_id')}/?$": R(ADMIN, ("delete", C + "/os-networks/{network}")),
    C_INC + "os-security-groups/?$": R(SCOPED, ("get", C + "/os-security-groups")),
    C_INC + f"os-security-groups/{_re('group_id')}/?$": R(
        OWNED, ("get", C + "/os-security-groups/{group}"),
        ("put", C + "/os-security-groups/{group}", {"security_group": {"name": "x", "description": "x"}}),
        ("delete", C + "/os-security-groups/{group}")),
    C_INC + "os-security-group-rules/?$": R(
        OWNED, ("post", C + "/os-security-group-rules",
                {"security_group_rule": {"parent_group_id": "{group}", "ip_protocol": "tcp", "from_port": 1,
                                         "to_port": 2, "cidr": "10.0.0.0/8"}})),
    C_INC + f"os-security-group-rules/{_re('rule_id')}/?$": R(OWNED, ("delete", C + "/os-security-group-rules/{rule}")),
    C_INC + f"servers/{_re('server_id')}/os-security-groups/?$": R(
        OWNED, ("get", C + "/servers/{server}/os-security-groups")),
    C_INC + f"servers/{_re('server_id')}/remote-consoles/?$": R(
        OWNED, ("post", C + "/servers/{server}/remote-consoles", {"remote_console": {"protocol": "vnc",
                                                                                      "type": "novnc"}})),
    C_INC + "os-floating-ip-pools/?$": R(ANY, ("get", C + "/os-floating-ip-pools")),
    C_INC + "os-floating-ips/?$": R(SCOPED, ("get", C + "/os-floating-ips")),
    C_INC + f"os-floating-ips/{_re('floating_ip_id')}/?$": R(
        OWNED, ("get", C + "/os-floating-ips/{fip}"), ("delete", C + "/os-floating-ips/{fip}")),
    C_INC + "images/?$": R(SCOPED, ("get", C + "/images")),
    C_INC + "images/detail/?$": R(SCOPED, ("get", C + "/images/detail")),
    C_INC + f"images/{_re('image_id')}/?$": R(OWNED, ("get", C + "/images/{image}"), ("delete", C + "/images/{image}")),
    C_INC + f"servers/{_re('server_id')}/os-volume_attachments/?$": R(
        OWNED, ("get", C + "/servers/{server}/os-volume_attachments"),
        ("post", C + "/servers/{server}/os-volume_attachments", {"volumeAttachment": {"volumeId": "{volume}"}})),
    C_INC + f"servers/{_re('server_id')}/os-volume_attachments/{_re('volume_id')}/?$": R(
        OWNED, ("get", C + "/servers/{server}/os-volume_attachments/{volume}"),
        ("delete", C + "/servers/{server}/os-volume_attachments/{volume}"),
        ("put", C + "/servers/{server}/os-volume_attachments/{volume}", {"volumeAttachment": {"volumeId": "{volume}"}})),
    # --- block storage (the URL carries a project id: another project's is refused) --------
    "volume/^$": R(PUBLIC, ("get", "/volume/")),
    "volume/^v3/?$": R(PUBLIC, ("get", V)),
    V_RE + "?$": R(PUBLIC, ("get", V + "/{b}")),
    V_RE + f"os-quota-sets/{_re('target_id')}/defaults/?$": R(ANY, ("get", V + "/{me}/os-quota-sets/{me}/defaults")),
    V_RE + f"os-quota-sets/{_re('target_id')}/?$": R(
        OWNED, ("get", V + "/{me}/os-quota-sets/{b}"), Probe("get", V + "/{b}/os-quota-sets/{b}", status=400)),
    V_RE + "limits/?$": R(SCOPED, ("get", V + "/{me}/limits")),
    V_RE + "volumes$": R(SCOPED, ("get", V + "/{me}/volumes"), ("get", V + "/{b}/volumes")),
    V_RE + "volumes/$": R(ANY, ("get", V + "/{me}/volumes/"), ("put", V + "/{me}/volumes/", {"volume": {}})),
    V_RE + "volumes/detail/?$": R(SCOPED, ("get", V + "/{me}/volumes/detail"), ("get", V + "/{b}/volumes/detail")),
    V_RE + f"volumes/{_re('volume_id')}/action/?$": R(
        OWNED, ("post", V + "/{me}/volumes/{volume}/action", {"os-extend": {"new_size": 5}}),
        ("post", V + "/{me}/volumes/{volume}/action", {"os-reserve": {}}),
        ("post", V + "/{me}/volumes/{volume}/action", {"os-attach": {"instance_uuid": "{server}",
                                                                     "mountpoint": "/dev/vdb"}}),
        ("post", V + "/{me}/volumes/{volume}/action", {"os-detach": {}}),
        Probe("post", V + "/{b}/volumes/{volume}/action", {"os-extend": {"new_size": 5}}, status=400)),
    V_RE + f"volumes/{_re('volume_id')}/?$": R(
        OWNED, ("get", V + "/{me}/volumes/{volume}"), Probe("get", V + "/{b}/volumes/{volume}", status=400),
        ("put", V + "/{me}/volumes/{volume}", {"volume": {"name": "x"}}), ("delete", V + "/{me}/volumes/{volume}")),
    V_RE + f"volumes/{_re('object_id')}/metadata/?$": R(
        OWNED, ("get", V + "/{me}/volumes/{volume}/metadata"),
        ("post", V + "/{me}/volumes/{volume}/metadata", {"metadata": {"k": "v"}}),
        ("put", V + "/{me}/volumes/{volume}/metadata", {"metadata": {"k": "v"}})),
    V_RE + f"volumes/{_re('object_id')}/metadata/{_re('key')}/?$": R(
        OWNED, ("get", V + "/{me}/volumes/{volume}/metadata/k"),
        ("put", V + "/{me}/volumes/{volume}/metadata/k", {"meta": {"k": "v"}}),
        ("delete", V + "/{me}/volumes/{volume}/metadata/k")),
    V_RE + f"snapshots/{_re('snapshot_id')}/action/?$": R(
        OWNED, ("post", V + "/{me}/snapshots/{snapshot}/action", {"os-update_snapshot_status": {"status": "error"}}),
        ("post", V + "/{me}/snapshots/{snapshot}/action", {"os-force_delete": {}})),
    V_RE + f"snapshots/{_re('object_id')}/metadata/?$": R(
        OWNED, ("get", V + "/{me}/snapshots/{snapshot}/metadata"),
        ("post", V + "/{me}/snapshots/{snapshot}/metadata", {"metadata": {"k": "v"}}),
        ("put", V + "/{me}/snapshots/{snapshot}/metadata", {"metadata": {"k": "v"}})),
    V_RE + f"snapshots/{_re('object_id')}/metadata/{_re('key')}/?$": R(
        OWNED, ("get", V + "/{me}/snapshots/{snapshot}/metadata/k"),
        ("put", V + "/{me}/snapshots/{snapshot}/metadata/k", {"meta": {"k": "v"}}),
        ("delete", V + "/{me}/snapshots/{snapshot}/metadata/k")),
    V_RE + "os-volume-transfer/?$": R(SCOPED, ("get", V + "/{me}/os-volume-transfer"),
                                      ("post", V + "/{me}/os-volume-transfer", {"transfer": {"volume_id": "{volume}"}})),
    V_RE + "os-volume-transfer/detail/?$": R(SCOPED, ("get", V + "/{me}/os-volume-transfer/detail")),
    V_RE + f"os-volume-transfer/{_re('transfer_id')}/?$": R(
        OWNED, ("get", V + "/{me}/os-volume-transfer/{transfer}"), ("delete", V + "/{me}/os-volume-transfer/{transfer}")),
    V_RE + f"os-volume-transfer/{_re('transfer_id')}/accept/?$": R(
        OWNED, Probe("post", V + "/{me}/os-volume-transfer/{transfer}/accept", {"accept": {"auth_key": "guess"}},
                     status=400)),
    V_RE + "snapshots/?$": R(SCOPED, ("get", V + "/{me}/snapshots"), ("get", V + "/{b}/snapshots")),
    V_RE + "snapshots/detail/?$": R(SCOPED, ("get", V + "/{me}/snapshots/detail")),
    V_RE + f"snapshots/{_re('snapshot_id')}/?$": R(
        OWNED, ("get", V + "/{me}/snapshots/{snapshot}"), ("put", V + "/{me}/snapshots/{snapshot}",
                                                           {"snapshot": {"name": "x"}}),
        ("delete", V + "/{me}/snapshots/{snapshot}")),
    V_RE + "os-availability-zone/?$": R(ANY, ("get", V + "/{me}/os-availability-zone")),
    V_RE + "os-services/?$": R(ADMIN, ("get", V + "/{me}/os-services")),
    V_RE + "types/?$": R(ANY, ("get", V + "/{me}/types"),
                         Probe("post", V + "/{me}/types", {"volume_type": {"name": "x"}}, kind=ADMIN)),
    V_RE + "types/default/?$": R(ANY, ("get", V + "/{me}/types/default")),
    V_RE + f"types/{_re('type_id')}/?$": R(
        ANY, ("get", V + "/{me}/types/__DEFAULT__"),
        Probe("put", V + "/{me}/types/__DEFAULT__", {"volume_type": {"description": "x"}}, kind=ADMIN),
        Probe("delete", V + "/{me}/types/__DEFAULT__", kind=ADMIN)),
    V_RE + f"types/{_re('type_id')}/action/?$": R(
        ADMIN, ("post", V + "/{me}/types/__DEFAULT__/action", {"addProjectAccess": {"project": "{a}"}})),
    V_RE + f"types/{_re('type_id')}/os-volume-type-access/?$": R(
        ADMIN, ("get", V + "/{me}/types/__DEFAULT__/os-volume-type-access")),
    V_RE + f"types/{_re('type_id')}/extra_specs/?$": R(
        ANY, ("get", V + "/{me}/types/__DEFAULT__/extra_specs"),
        Probe("post", V + "/{me}/types/__DEFAULT__/extra_specs", {"extra_specs": {"k": "v"}}, kind=ADMIN)),
    V_RE + f"types/{_re('type_id')}/extra_specs/{_re('key')}/?$": R(
        ANY, ("get", V + "/{me}/types/__DEFAULT__/extra_specs/k"),
        Probe("put", V + "/{me}/types/__DEFAULT__/extra_specs/k", {"k": "v"}, kind=ADMIN),
        Probe("delete", V + "/{me}/types/__DEFAULT__/extra_specs/k", kind=ADMIN)),
    V_RE + "extensions/?$": R(ANY, ("get", V + "/{me}/extensions")),
    V_RE + f"capabilities/{_re('host')}/?$": R(ADMIN, ("get", V + "/{me}/capabilities/some-host")),
    # messages (3.3) and clusters (3.7): without the microversion header (3.0) a 404 for everyone
    V_RE + "messages/?$": R(SCOPED, ("get", V + "/{me}/messages"), ("get", V + "/{b}/messages")),
    V_RE + f"messages/{_re('message_id')}/?$": R(
        OWNED, ("get", V + "/{me}/messages/00000000-0000-0000-0000-000000000000"),
        ("delete", V + "/{me}/messages/00000000-0000-0000-0000-000000000000")),
    V_RE + "clusters(/detail)?/?$": R(ADMIN, Probe("get", V + "/{me}/clusters", status=404)),
    V_RE + f"clusters/{_re('name')}/?$": R(ADMIN, Probe("get", V + "/{me}/clusters/c1", status=404)),
    # --- images ---------------------------------------------------------------------------
    "^image$": R(PUBLIC, ("get", "/image")),
    "image/^$": R(PUBLIC, ("get", "/image/")),
    "image/^versions/?$": R(PUBLIC, ("get", "/image/versions")),
    "image/^v2/?$": R(PUBLIC, ("get", IMG)),
    "image/^v2/images$": R(SCOPED, ("get", IMG + "/images")),
    f"image/^v2/images/{_re('image_id')}/?$": R(
        OWNED, ("get", IMG + "/images/{image}"), ("delete", IMG + "/images/{image}")),
    f"image/^v2/images/{_re('image_id')}/file/?$": R(OWNED, ("get", IMG + "/images/{image}/file")),
    f"image/^v2/images/{_re('image_id')}/actions/(?P<action>deactivate|reactivate)/?$": R(
        OWNED, ("post", IMG + "/images/{image}/actions/deactivate"), ("post", IMG + "/images/{image}/actions/reactivate")),
    f"image/^v2/images/{_re('image_id')}/tasks/?$": R(OWNED, ("get", IMG + "/images/{image}/tasks")),
    "image/^v2/tasks/?$": R(ADMIN, ("get", IMG + "/tasks"),
                            ("post", IMG + "/tasks", {"type": "import", "input": {}})),
    "image/^v2/tasks/(?P<task_id>[^/]+)/?$": R(ADMIN, ("get", IMG + "/tasks/x")),
    "image/^v2/images/$": R(ANY, ("get", IMG + "/images/"), ("delete", IMG + "/images/")),
    f"image/^v2/images/{_re('image_id')}/members/?$": R(
        OWNED, ("get", IMG + "/images/{image}/members"), ("post", IMG + "/images/{image}/members", {"member": "{a}"})),
    f"image/^v2/images/{_re('image_id')}/members/{_re('member_id')}/?$": R(
        OWNED, ("get", IMG + "/images/{image}/members/{a}"), ("delete", IMG + "/images/{image}/members/{a}")),
    f"image/^v2/images/{_re('image_id')}/tags/(?P<tag>[^/]+)/?$": R(
        OWNED, ("put", IMG + "/images/{image}/tags/t"), ("delete", IMG + "/images/{image}/tags/t")),
    "image/^v2/schemas/(?P<name>[a-z_]+|metadefs/[a-z_]+)/?$": R(ANY, ("get", IMG + "/schemas/image")),
    "image/^v2/info/import/?$": R(ANY, ("get", IMG + "/info/import")),
    "image/^v2/info/stores/?$": R(ANY, ("get", IMG + "/info/stores")),
    "image/^v2/info/usage/?$": R(SCOPED, ("get", IMG + "/info/usage")),
    "image/^v2/metadefs/namespaces/?$": R(
        SCOPED, ("get", IMG + "/metadefs/namespaces"),
        Probe("post", IMG + "/metadefs/namespaces", {"namespace": "x"}, kind=ADMIN)),
    f"image/^v2/metadefs/namespaces/{_re('namespace')}/?$": R(
        OWNED, ("get", MD), ("put", MD, {"namespace": "x"}), ("delete", MD)),
    f"image/^v2/metadefs/namespaces/{_re('namespace')}/objects/?$": R(
        OWNED, ("get", MD + "/objects"), ("post", MD + "/objects", {"name": "o"}), ("delete", MD + "/objects")),
    f"image/^v2/metadefs/namespaces/{_re('namespace')}/objects/{_re('name')}/?$": R(
        OWNED, ("get", MD + "/objects/o"), ("delete", MD + "/objects/o")),
    f"image/^v2/metadefs/namespaces/{_re('namespace')}/properties/?$": R(
        OWNED, ("get", MD + "/properties"), ("delete", MD + "/properties")),
    f"image/^v2/metadefs/namespaces/{_re('namespace')}/properties/{_re('name')}/?$": R(
        OWNED, ("get", MD + "/properties/p"), ("delete", MD + "/properties/p")),
    f"image/^v2/metadefs/namespaces/{_re('namespace')}/tags/?$": R(
        OWNED, ("get", MD + "/tags"), ("post", MD + "/tags", {"tags": [{"name": "t"}]}), ("delete", MD + "/tags")),
    f"image/^v2/metadefs/namespaces/{_re('namespace')}/tags/{_re('name')}/?$": R(
        OWNED, ("get", MD + "/tags/t"), ("post", MD + "/tags/t"), ("delete", MD + "/tags/t")),
    f"image/^v2/metadefs/namespaces/{_re('namespace')}/resource_types/?$": R(
        OWNED, ("get", MD + "/resource_types"), ("post", MD + "/resource_types", {"name": "OS::Glance::Image"})),
    f"image/^v2/metadefs/namespaces/{_re('namespace')}/resource_types/{_re('name')}/?$": R(
        OWNED, ("delete", MD + "/resource_types/OS::Glance::Image")),
    "image/^v2/metadefs/resource_types/?$": R(ANY, ("get", IMG + "/metadefs/resource_types")),
    # --- misc -----------------------------------------------------------------------------
    "api/schema/": R(PUBLIC, ("get", "/api/schema/")),
    "metrics": R(PUBLIC, ("get", "/metrics")),  # no token; limited by METRICS_ALLOWED_CIDRS
    # The EC2 Query API takes no token: a request is signed with an EC2 credential, which scopes it
    # to that credential's project (401 without a signature, with or without a token). Another
    # project's objects: ec2/tests/test_auth.py (another project's credential).
    "ec2/": R(ANY, Probe("get", "/ec2/?Action=DescribeInstances&Version=2016-11-15", status=401)),
    "ec2": R(ANY, Probe("get", "/ec2?Action=DescribeRegions&Version=2016-11-15", status=401)),
    "": R(PUBLIC, ("get", "/")),
    # --- dashboard (a session of alice, member of A) ----------------------------------------
    "dashboard/": R(ANY, ("get", D + "/")),
    "dashboard/login/": R(PUBLIC, ("get", D + "/login/")),
    "dashboard/logout/": R(ANY, ("post", D + "/logout/")),
    "dashboard/project/": R(OWNED, Probe("post", D + "/project/", {"project": "{b}"}, status=302,
                                          says="You have no role in that project.")),
    "dashboard/instances/": R(SCOPED, ("get", D + "/instances/")),
    "dashboard/instances/changes/": R(SCOPED, ("get", D + "/instances/changes/?since=2000-01-01T00:00:00Z")),
    "dashboard/instances/launch/": R(ANY, ("get", D + "/instances/launch/")),
    "dashboard/instances/<uuid:instance_id>/": R(OWNED, ("get", S + "/")),
    "dashboard/instances/<uuid:instance_id>/console/": R(OWNED, ("get", S + "/console/")),
    "dashboard/instances/<uuid:instance_id>/action/": R(OWNED, ("post", S + "/action/", {"action": "reboot"})),
    "dashboard/instances/<uuid:instance_id>/delete/": R(OWNED, ("post", S + "/delete/")),
    "dashboard/instances/<uuid:instance_id>/rename/": R(OWNED, ("post", S + "/rename/", {"name": "x"})),
    "dashboard/instances/<uuid:instance_id>/lock/": R(OWNED, ("post", S + "/lock/", {"action": "lock"})),
    "dashboard/instances/<uuid:instance_id>/resize/": R(OWNED, ("post", S + "/resize/", {"flavor": "{flavor}"})),
    "dashboard/instances/<uuid:instance_id>/resize/confirm/": R(OWNED, ("post", S + "/resize/confirm/")),
    "dashboard/instances/<uuid:instance_id>/resize/revert/": R(OWNED, ("post", S + "/resize/revert/")),
    "dashboard/instances/<uuid:instance_id>/migrate/": R(OWNED, ("post", S + "/migrate/", {"host": ""})),
    "dashboard/instances/<uuid:instance_id>/live-migrate/": R(OWNED, ("post", S + "/live-migrate/", {"host": ""})),
    "dashboard/instances/<uuid:instance_id>/evacuate/": R(OWNED, ("post", S + "/evacuate/", {"host": ""})),
    "dashboard/instances/<uuid:instance_id>/rescue/": R(OWNED, ("post", S + "/rescue/")),
    "dashboard/instances/<uuid:instance_id>/unrescue/": R(OWNED, ("post", S + "/unrescue/")),
    "dashboard/instances/<uuid:instance_id>/shelve/": R(OWNED, ("post", S + "/shelve/")),
    "dashboard/instances/<uuid:instance_id>/unshelve/": R(OWNED, ("post", S + "/unshelve/")),
    "dashboard/instances/<uuid:instance_id>/shelve-offload/": R(OWNED, ("post", S + "/shelve-offload/")),
    "dashboard/instances/<uuid:instance_id>/rebuild/": R(OWNED, ("post", S + "/rebuild/", {"image": "{image}"})),
    "dashboard/instances/<uuid:instance_id>/snapshot/": R(OWNED, ("post", S + "/snapshot/", {"name": "x"})),
    "dashboard/instances/<uuid:instance_id>/volumes/": R(
        OWNED, ("post", S + "/volumes/", {"volume": "{volume}", "change": "attach"})),
    "dashboard/instances/<uuid:instance_id>/security-groups/": R(
        OWNED, ("post", S + "/security-groups/", {"name": "default", "change": "add"})),
    "dashboard/keypairs/": R(SCOPED, ("get", D + "/keypairs/")),
    "dashboard/keypairs/<str:name>/download/": R(OWNED, ("get", D + "/keypairs/{keypair}/download/")),
    "dashboard/keypairs/<str:name>/delete/": R(OWNED, Probe("post", D + "/keypairs/{keypair}/delete/", status=302,
                                                                   says="not found")),
    "dashboard/floating-ips/": R(SCOPED, ("get", D + "/floating-ips/")),
    "dashboard/floating-ips/allocate/": R(ANY, ("post", D + "/floating-ips/allocate/", {"pool": "secpool"})),
    "dashboard/floating-ips/<str:address>/release/": R(OWNED, ("post", D + "/floating-ips/{fip_address}/release/")),
    "dashboard/floating-ips/associate/": R(
        OWNED, ("post", D + "/floating-ips/associate/", {"address": "{fip_address}", "instance": "{server}"})),
    "dashboard/floating-ips/<str:address>/disassociate/": R(
        OWNED, ("post", D + "/floating-ips/{fip_address}/disassociate/")),
    "dashboard/instances/<uuid:instance_id>/vnc/": R(OWNED, ("post", S + "/vnc/")),
    "dashboard/admin/flavors/": R(ADMIN, ("get", D + "/admin/flavors/")),
    "dashboard/admin/flavors/<str:flavorid>/delete/": R(ADMIN, ("post", D + "/admin/flavors/{flavor}/delete/")),
    "dashboard/admin/flavors/<str:flavorid>/access/": R(
        ADMIN, ("post", D + "/admin/flavors/{flavor}/access/", {"project": "{a}"})),
    "dashboard/admin/flavors/<str:flavorid>/access/remove/": R(
        ADMIN, ("post", D + "/admin/flavors/{flavor}/access/remove/", {"project": "{b}"})),
    "dashboard/admin/projects/": R(ADMIN, ("get", D + "/admin/projects/")),
    "dashboard/admin/projects/<str:project_id>/": R(ADMIN, ("get", D + "/admin/projects/{b}/")),
    "dashboard/admin/projects/<str:project_id>/delete/": R(
        ADMIN, ("post", D + "/admin/projects/{b}/delete/", {"confirm_name": "x"})),
    "dashboard/admin/projects/<str:project_id>/enable/": R(ADMIN, ("post", D + "/admin/projects/{b}/enable/")),
    "dashboard/admin/projects/<str:project_id>/roles/": R(
        ADMIN, ("post", D + "/admin/projects/{b}/roles/", {"user": "{alice}", "role": "{role}"})),
    "dashboard/admin/projects/<str:project_id>/roles/remove/": R(
        ADMIN, ("post", D + "/admin/projects/{b}/roles/remove/", {"user": "{bob}", "role": "{role}"})),
    "dashboard/admin/projects/<str:project_id>/quotas/": R(
        ADMIN, ("post", D + "/admin/projects/{b}/quotas/", {"instances": "99"})),
    "dashboard/admin/users/": R(ADMIN, ("get", D + "/admin/users/")),
    "dashboard/admin/users/<str:user_id>/": R(ADMIN, ("get", D + "/admin/users/{bob}/"),
                                              ("post", D + "/admin/users/{bob}/", {"name": "x"})),
    "dashboard/admin/users/<str:user_id>/password/": R(
        ADMIN, ("post", D + "/admin/users/{bob}/password/", {"password": "a-new-password-1"})),
    "dashboard/admin/users/<str:user_id>/delete/": R(ADMIN, ("post", D + "/admin/users/{bob}/delete/")),
    "dashboard/admin/projects/<str:project_id>/edit/": R(
        ADMIN, ("post", D + "/admin/projects/{b}/edit/", {"name": "x"})),
    "dashboard/admin/quotas/": R(ADMIN, ("get", D + "/admin/quotas/")),
    "dashboard/admin/networks/": R(ADMIN, ("get", D + "/admin/networks/")),
    "dashboard/admin/networks/<uuid:network_uuid>/delete/": R(
        ADMIN, ("post", D + "/admin/networks/{network_uuid}/delete/")),
    "dashboard/admin/floating-ranges/": R(ADMIN, ("get", D + "/admin/floating-ranges/")),
    "dashboard/admin/floating-ranges/delete/": R(
        ADMIN, ("post", D + "/admin/floating-ranges/delete/", {"ip_range": "10.252.0.64/29"})),
    # project panels: images, volumes, security groups, API access, usage
    "dashboard/images/": R(SCOPED, ("get", D + "/images/")),
    "dashboard/images/upload/": R(ANY, ("get", D + "/images/upload/")),
    "dashboard/images/<str:image_id>/": R(OWNED, ("get", D + "/images/{image}/")),
    "dashboard/images/<str:image_id>/edit/": R(OWNED, ("get", D + "/images/{image}/edit/"),
                                               ("post", D + "/images/{image}/edit/", {"name": "x"})),
    "dashboard/images/<str:image_id>/delete/": R(OWNED, ("post", D + "/images/{image}/delete/")),
    "dashboard/volumes/": R(SCOPED, ("get", D + "/volumes/")),
    "dashboard/volumes/attach/": R(OWNED, ("post", D + "/volumes/attach/", {"volume": "{volume}",
                                                                            "instance": "{server}"})),
    "dashboard/volumes/<str:volume_id>/": R(OWNED, ("get", D + "/volumes/{volume}/")),
    "dashboard/volumes/<str:volume_id>/extend/": R(OWNED, ("post", D + "/volumes/{volume}/extend/", {"size": "5"})),
    "dashboard/volumes/<str:volume_id>/detach/": R(OWNED, ("post", D + "/volumes/{volume}/detach/")),
    "dashboard/volumes/<str:volume_id>/snapshot/": R(OWNED, ("post", D + "/volumes/{volume}/snapshot/",
                                                             {"name": "x"})),
    "dashboard/volumes/<str:volume_id>/delete/": R(OWNED, ("post", D + "/volumes/{volume}/delete/")),
    "dashboard/volumes/snapshots/<str:snapshot_id>/delete/": R(
        OWNED, ("post", D + "/volumes/snapshots/{snapshot}/delete/")),
    "dashboard/security-groups/": R(SCOPED, ("get", D + "/security-groups/")),
    "dashboard/security-groups/<str:group_id>/": R(OWNED, ("get", D + "/security-groups/{group}/")),
    "dashboard/security-groups/<str:group_id>/delete/": R(OWNED, ("post", D + "/security-groups/{group}/delete/")),
    "dashboard/security-groups/<str:group_id>/rules/<str:rule_id>/delete/": R(
        OWNED, ("post", D + "/security-groups/{group}/rules/{rule}/delete/")),
    "dashboard/api-access/": R(SCOPED, ("get", D + "/api-access/")),
    "dashboard/api-access/openrc/": R(ANY, ("get", D + "/api-access/openrc/")),
    "dashboard/api-access/clouds.yaml": R(ANY, ("get", D + "/api-access/clouds.yaml")),
    "dashboard/api-access/ec2/create/": R(ANY, ("post", D + "/api-access/ec2/create/")),
    "dashboard/api-access/nova.zip": R(ANY, ("post", D + "/api-access/nova.zip")),
    "dashboard/password/": R(ANY, ("get", D + "/password/")),
    "dashboard/settings/": R(ANY, ("get", D + "/settings/")),
    # bulk actions: another project's rows are "not found", nothing is done to them
    "dashboard/bulk/<str:panel>/": R(
        OWNED,
        Probe("post", D + "/bulk/instances/", {"action": "delete", "ids": "{server}"}, status=302, says="not found"),
        Probe("post", D + "/bulk/volumes/", {"action": "delete", "ids": "{volume}"}, status=302, says="not found"),
        Probe("post", D + "/bulk/images/", {"action": "delete", "ids": "{image}"}, status=302, says="not found"),
        Probe("post", D + "/bulk/keypairs/", {"action": "delete", "ids": "{keypair}"}, status=302, says="not found"),
        Probe("post", D + "/bulk/security-groups/", {"action": "delete", "ids": "{group}"}, status=302,
              says="not found"),
        Probe("post", D + "/bulk/floating-ips/", {"action": "release", "ids": "{fip_address}"}, status=302,
              says="not found")),
    "dashboard/api-access/ec2/<str:access>/": R(OWNED, ("get", D + "/api-access/ec2/{ec2}/")),
    "dashboard/api-access/ec2/<str:access>/delete/": R(OWNED, ("post", D + "/api-access/ec2/{ec2}/delete/")),
    "dashboard/usage.csv": R(SCOPED, ("get", D + "/usage.csv")),
    "dashboard/usage/": R(SCOPED, ("get", D + "/usage/")),
    "dashboard/admin/usage/": R(ADMIN, ("get", D + "/admin/usage/")),
    "dashboard/admin/usage.csv": R(ADMIN, ("get", D + "/admin/usage.csv")),
    # the noVNC page: no session or token; the console token in its query string is the key
    "vnc/": R(PUBLIC, ("get", "/vnc/?token=not-a-console-token")),
    "dashboard/admin/instances/": R(ADMIN, ("get", D + "/admin/instances/")),
    "dashboard/admin/services/": R(ADMIN, ("get", D + "/admin/services/")),
    "dashboard/admin/services/update/": R(ADMIN, ("post", D + "/admin/services/update/", {"id": "1"})),
    "dashboard/admin/hypervisors/": R(ADMIN, ("get", D + "/admin/hypervisors/")),
    "dashboard/server-groups/": R(SCOPED, ("get", D + "/server-groups/")),
    "dashboard/server-groups/<uuid:group_id>/delete/": R(OWNED, ("post", D + "/server-groups/{server_group}/delete/")),
    "dashboard/admin/aggregates/": R(ADMIN, ("get", D + "/admin/aggregates/"),
                                     ("post", D + "/admin/aggregates/", {"name": "x"})),
    "dashboard/admin/aggregates/<int:aggregate_id>/": R(
        ADMIN, ("post", D + "/admin/aggregates/1/", {"op": "delete"})),
    # the Networking API v2.0 (network/api/neutron/)
    "network": R(PUBLIC, ("get", "/network")),
    "network/": R(PUBLIC, ("get", "/network/")),
    "network/^v2\\.0/?$": R(ANY, ("get", N)),
    "network/^.*$": R(ANY, ("get", N + "/nothing-here")),
    N_INC + "networks" + J: R(SCOPED, ("get", N + "/networks"),
                               Probe("post", N + "/networks", {"network": {"name": "x"}}, ADMIN)),
    N_INC + f"networks/{_n('network_id')}" + J: R(
        OWNED, ("get", N + "/networks/{b_network}"),
        Probe("put", N + "/networks/{b_network}", {"network": {"name": "x"}}, ADMIN),
        Probe("delete", N + "/networks/{b_network}", None, ADMIN)),
    N_INC + "subnets" + J: R(SCOPED, ("get", N + "/subnets"),
                              Probe("post", N + "/subnets", {"subnet": {"network_id": "{b_network}",
                                                                        "cidr": "10.252.2.0/28"}}, ADMIN)),
    N_INC + f"subnets/{_n('subnet_id')}" + J: R(
        OWNED, ("get", N + "/subnets/{b_subnet}"),
        Probe("put", N + "/subnets/{b_subnet}", {"subnet": {"name": "x"}}, ADMIN),
        Probe("delete", N + "/subnets/{b_subnet}", None, ADMIN)),
    # POST /ports: 400 for everyone (ports are created by booting a server)
    N_INC + "ports" + J: R(SCOPED, ("get", N + "/ports"), Probe("post", N + "/ports", {"port": {}}, status=400)),
    N_INC + f"ports/{_n('port_id')}" + J: R(
        OWNED, ("get", N + "/ports/{port}"), ("put", N + "/ports/{port}", {"port": {"name": "x"}}),
        ("delete", N + "/ports/{port}")),
    N_INC + "quotas" + J: R(ADMIN, ("get", N + "/quotas")),
    N_INC + f"quotas/{_n('project_id')}" + J: R(
        OWNED, ("get", N + "/quotas/{b}"), Probe("put", N + "/quotas/{b}", {"quota": {"port": 5}}, ADMIN),
        Probe("delete", N + "/quotas/{b}", None, ADMIN)),
    N_INC + f"quotas/{_n('project_id')}/details" + J: R(OWNED, ("get", N + "/quotas/{b}/details")),
    N_INC + f"quotas/{_n('project_id')}/default" + J: R(OWNED, ("get", N + "/quotas/{b}/default")),
    # floating IPs (floating/api/neutron.py): a project's own; another project's is a 404 (policy's
    # enforce: a target of another project is not disclosed), allocating one for project B too
    N_INC + "floatingips(?:\\.json|/)?$": R(
        SCOPED, ("get", N + "/floatingips"), ("get", N + "/floatingips?project_id={b}"),
        ("get", N + "/floatingips?floating_ip_address={fip_address}"),
        Probe("post", N + "/floatingips", {"floatingip": {"floating_network_id": "{fip_network}",
                                                          "project_id": "{b}"}}, OWNED)),
    N_INC + "floatingips/(?P<floatingip_id>[^/.]+)(?:\\.json|/)?$": R(
        OWNED, ("get", N + "/floatingips/{fip}"), ("put", N + "/floatingips/{fip}", {"floatingip": {"port_id": None}}),
        ("put", N + "/floatingips/{fip}", {"floatingip": {"description": "x"}}),
        ("delete", N + "/floatingips/{fip}")),
    # security groups and rules (secgroups/api/neutron.py); naming project B in a new group is a
    # 400 for a member (Neutron's answer), a rule in B's group a 404
    N_INC + "security-groups" + J: R(
        SCOPED, ("get", N + "/security-groups"), ("get", N + "/security-groups?project_id={b}"),
        Probe("post", N + "/security-groups", {"security_group": {"name": "x", "project_id": "{b}"}}, status=400)),
    N_INC + "security-groups/(?P<group_id>[^/.]+)" + J: R(
        OWNED, ("get", N + "/security-groups/{group_uuid}"), ("get", N + "/security-groups/{group}"),
        ("put", N + "/security-groups/{group_uuid}", {"security_group": {"name": "x"}}),
        ("delete", N + "/security-groups/{group_uuid}")),
    N_INC + "security-group-rules" + J: R(
        SCOPED, ("get", N + "/security-group-rules"), ("get", N + "/security-group-rules?project_id={b}"),
        Probe("post", N + "/security-group-rules", {"security_group_rule": {
            "security_group_id": "{group_uuid}", "direction": "ingress", "protocol": "tcp", "port_range_min": 80,
            "port_range_max": 80, "ethertype": "IPv4"}}, OWNED)),
    N_INC + "security-group-rules/(?P<rule_id>[^/.]+)" + J: R(
        OWNED, ("get", N + "/security-group-rules/{rule_uuid}"), ("delete", N + "/security-group-rules/{rule_uuid}")),
    N_INC + "extensions" + J: R(ANY, ("get", N + "/extensions")),
    N_INC + "extensions/(?P<alias>[^/]+?)" + J: R(ANY, ("get", N + "/extensions/quotas")),
}
for _pattern, _route in IDENTITY_V3.items():
    ROUTES["identity/v3/" + _pattern] = _route
    ROUTES["v3/" + _pattern] = Route(_route.kind, [dataclasses.replace(p, path=p.path.replace(I3, "/v3", 1))
                                                   for p in _route.probes])

# --- compute: os-hosts, tenant usage, usage audit log, the v2 root, images/ (empty id) ------
ROUTES.update({
    "compute/^v2/?$": R(PUBLIC, ("get", "/compute/v2")),
    C_RE + "os-hosts/?$": R(ADMIN, ("get", C + "/os-hosts"), ("get", C + "/os-hosts?zone=nova")),
    C_RE + f"os-hosts/{_re('host')}/?$": R(ADMIN, ("get", C + "/os-hosts/host-x"),
                                           ("put", C + "/os-hosts/host-x", {"status": "disable"})),
    C_RE + f"os-hosts/{_re('host')}/reboot/?$": R(ADMIN, ("get", C + "/os-hosts/host-x/reboot")),
    C_RE + f"os-hosts/{_re('host')}/shutdown/?$": R(ADMIN, ("get", C + "/os-hosts/host-x/shutdown")),
    C_RE + f"os-hosts/{_re('host')}/startup/?$": R(ADMIN, ("get", C + "/os-hosts/host-x/startup")),
    C_RE + "os-simple-tenant-usage$": R(ADMIN, ("get", C + "/os-simple-tenant-usage?detailed=1")),
    # project B's usage: 404 for alice (her own project's is hers: test_tenant_usage_api)
    C_RE + f"os-simple-tenant-usage/{_re('project_id')}/?$": R(OWNED, ("get", C + "/os-simple-tenant-usage/{b}")),
    C_RE + "os-instance_usage_audit_log/?$": R(ADMIN, ("get", C + "/os-instance_usage_audit_log")),
    C_RE + f"os-instance_usage_audit_log/{_re('before')}/?$": R(
        ADMIN, ("get", C + "/os-instance_usage_audit_log/2012-07-05%2010:00:00")),
    # a trailing slash: GET is the image list, DELETE an empty image id (404, as Nova)
    C_RE + "images/$": R(SCOPED, ("get", C + "/images/"), Probe("delete", C + "/images/", kind=OWNED)),
    C_RE + "os-volumes/$": R(OWNED, ("get", C + "/os-volumes/"), ("delete", C + "/os-volumes/")),
    C_RE + "os-security-groups/$": R(SCOPED, ("get", C + "/os-security-groups/"),
                                     Probe("delete", C + "/os-security-groups/", kind=OWNED)),
    # other services' events about any project's servers: admins (or the service role) only
    C_RE + "os-server-external-events/?$": R(ADMIN, ("post", C + "/os-server-external-events", {
        "events": [{"name": "network-changed", "server_uuid": "{server}"}]})),
    C_RE + f"servers/{_re('server_id')}/os-server-password/?$": R(
        OWNED, ("get", C + "/servers/{server}/os-server-password"),
        ("delete", C + "/servers/{server}/os-server-password")),
})

# Block Storage v3 admin resources (volumes/api/admin.py, qos.py): admins only
QOS = "/{me}/qos-specs/00000000-0000-0000-0000-000000000000"
ROUTES.update({
    V_RE + "os-services/(?P<action>[^/]+)/?$": R(
        ADMIN, ("put", V + "/{me}/os-services/disable", {"host": "some-host", "binary": "cinder-volume"}),
        ("put", V + "/{me}/os-services/freeze", {"host": "some-host"})),
    V_RE + "os-hosts/?$": R(ADMIN, ("get", V + "/{me}/os-hosts")),
    V_RE + "os-hosts/(?P<host>[^/]+)/?$": R(ADMIN, ("get", V + "/{me}/os-hosts/some-host")),
    V_RE + "os-quota-class-sets/(?P<class_name>[^/]+)/?$": R(
        ADMIN, ("get", V + "/{me}/os-quota-class-sets/default"),
        ("put", V + "/{me}/os-quota-class-sets/default", {"quota_class_set": {"volumes": 1}})),
    V_RE + "scheduler-stats/get_pools/?$": R(ADMIN, ("get", V + "/{me}/scheduler-stats/get_pools?detail=true")),
    V_RE + "qos-specs/?$": R(ADMIN, ("get", V + "/{me}/qos-specs"),
                             ("post", V + "/{me}/qos-specs", {"qos_specs": {"name": "x"}})),
    V_RE + "qos-specs/(?P<qos_id>[^/]+)/?$": R(
        ADMIN, ("get", V + QOS), ("put", V + QOS, {"qos_specs": {"k": "v"}}), ("delete", V + QOS)),
    V_RE + "qos-specs/(?P<qos_id>[^/]+)/delete_keys/?$": R(ADMIN, ("put", V + QOS + "/delete_keys", {"keys": ["k"]})),
    V_RE + "qos-specs/(?P<qos_id>[^/]+)/associations/?$": R(ADMIN, ("get", V + QOS + "/associations")),
    V_RE + "qos-specs/(?P<qos_id>[^/]+)/(?P<action>associate|disassociate|disassociate_all)/?$": R(
        ADMIN, ("get", V + QOS + "/associate?vol_type_id=__DEFAULT__"), ("get", V + QOS + "/disassociate_all")),
})

# Probes that are not their route's kind but must hold too (member writes on readable routes)
EXTRA_ADMIN_PROBES = ADMIN_ONLY_WRITES_ON_ROLES + [
    ("post", C + "/flavors", {"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0}}),
    ("post", C + "/os-networks", {"network": {"label": "x", "cidr": "10.252.0.0/28"}}),
    ("put", C + "/os-quota-sets/{a}", {"quota_set": {"instances": 99}}),
    ("get", C + "/limits?tenant_id={b}"),
    ("get", C + "/servers?all_tenants=1"),
]

DJANGO_ADMIN_PREFIX = "admin/"


def all_patterns():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return list(walk(get_resolver().url_patterns))


def test_every_url_pattern_is_classified():
    """A new route must be added to ROUTES with its kind and a probe (see the module doc)."""
    patterns = [p for p in all_patterns() if not p.startswith(DJANGO_ADMIN_PREFIX)]
    missing = sorted(set(patterns) - set(ROUTES))
    stale = sorted(set(ROUTES) - set(patterns))
    assert not missing, "URL patterns nobody classified in tests/test_isolation_matrix.py ROUTES:\n" + "\n".join(missing)
    assert not stale, "ROUTES lists patterns that no longer exist:\n" + "\n".join(stale)
    assert all(route.probes for route in ROUTES.values())


# --- the world: alice in A, bob in B with one of everything -----------------------------------


@pytest.fixture
def world(make_account, admin_account, state_paths):
    from floating.services import addresses as floating_addresses
    from floating.services import pools
    from floating.services import ranges
    from identity.models import Ec2Credential, Role
    from images.models import Image
    from images.services.registry import register_image
    from network.services.networks import create_network
    from secgroups.models import SecurityGroupRule
    from secgroups.services import groups as secgroup_services
    from volumes.models import Snapshot, Volume

    alice, project_a, token_a = make_account("project-a", "member", username="alice")
    bob, project_b, _ = make_account("project-b", "member", username="bob")
    netadmin = Role.objects.get(name="netadmin")
    identity_services.assign_role(bob, netadmin, project_b)
    identity_services.assign_role(alice, netadmin, project_a)
    token_a, _ = tokens.issue_token(alice, project_a)
    token_b, _ = tokens.issue_token(bob, project_b)
    client_b = TokenClient(token_b)

    flavor = flavor_services.create_flavor(name="b-only", memory_mb=256, vcpus=1, root_gb=1, is_public=False)
    flavor_services.add_access(flavor, project_b.id)
    network = create_network("secnet", "10.252.0.0/26", bridge="cptsec0", bridge_interface="")
    image = register_image(io.BytesIO(b"b" * 4096), "b-private", disk_format="raw", owner=project_b,
                           visibility=Image.PRIVATE)
    image_a = register_image(io.BytesIO(b"a" * 4096), "a-private", disk_format="raw", owner=project_a,
                             visibility=Image.PRIVATE)
    from images.models import MetadefNamespace
    MetadefNamespace.objects.create(namespace="b-only-ns", owner=project_b.id, visibility="private")
    ctx_b = SimpleNamespace(user=bob, project=project_b, user_id=bob.id, project_id=project_b.id,
                            request_id="req-b", is_admin=False)
    (server,) = instances.create_instances(ctx_b, "b-server", flavor, {"id": str(image.id), "status": "active",
                                                                         "properties": {}},
                                           metadata={"owner": "b"})
    group = secgroup_services.create_group(project_b.id, "b-group", "bob's")
    rule = SecurityGroupRule.objects.create(parent_group=group, protocol="tcp", from_port=22, to_port=22,
                                            cidr="0.0.0.0/0")
    ranges.create_range("10.252.0.64/29", pool="secpool", interface="cptsecx0")
    from network.services import fixed_ips, neutron
    b_network = create_network("b-net", "10.252.1.0/28", bridge="cptsec1", bridge_interface="", project=project_b)
    port = fixed_ips.allocate_fixed_ip(b_network, server.uuid, host="h")
    fip = floating_addresses.allocate(SimpleNamespace(project_id=project_b.id, project=project_b, user=bob,
                                                      is_admin=False, roles=["netadmin"], user_id=bob.id),
                                      "secpool")
    response = client_b.post(C + "/os-keypairs", {"keypair": {"name": "bob-key"}}, format="json")
    assert response.status_code in (200, 201), response.content
    volume = Volume.objects.create(name="b-vol", size=1, availability_zone="nova", status="available",
                                   project=project_b, user=bob, host="h")
    snapshot = Snapshot.objects.create(volume=volume, name="b-snap", size=1, status="available",
                                       project=project_b, user=bob, host="h")
    offered = Volume.objects.create(name="b-offered", size=1, availability_zone="nova", status="awaiting-transfer",
                                    project=project_b, user=bob, host="h")
    from volumes.models import VolumeTransfer
    transfer = VolumeTransfer.objects.create(volume=offered, salt="s", key_hash="h")
    ec2 = Ec2Credential.objects.create(user=bob, project=project_b)
    from identity.models import ApplicationCredential, Endpoint, Group, Limit, Region, RegisteredLimit, Service
    appcred = ApplicationCredential.objects.create(name="b-appcred", user=bob, project=project_b, secret_hash="!")
    appcred.roles.add(Role.objects.get(name="member"))
    id_group = Group.objects.create(name="b-team")
    id_group.users.add(bob)
    region, _ = Region.objects.get_or_create(id="iso-region")
    service = Service.objects.create(type="iso-test", name="iso")
    endpoint = Endpoint.objects.create(service=service, region=region, interface="public", url="http://iso/")
    registered_limit = RegisteredLimit.objects.create(service=service, resource_name="b-cores", default_limit=10)
    b_limit = Limit.objects.create(project=project_b, service=service, resource_name="b-cores", resource_limit=5)
    from compute.models import ServerGroup, ServerGroupMember
    server_group = ServerGroup.objects.create(name="b-sg", policy="anti-affinity", project_id=project_b.id,
                                              user_id=bob.id)
    ServerGroupMember.objects.create(group=server_group, instance_uuid=server.uuid)
    session_a = Client()
    assert session_a.post("/dashboard/login/", {"username": "alice", "password": "secret-pass"}).status_code == 302
    return SimpleNamespace(
        token_a=token_a, session_a=session_a, a=project_a, b=project_b, alice=alice, bob=bob, server=server,
        flavor=flavor, image=image, image_a=image_a, group=group, rule=rule, fip=fip, volume=volume,
        snapshot=snapshot, ec2=ec2, network=network,
        values={"a": project_a.id, "b": project_b.id, "me": project_a.id, "server": server.uuid,
                "flavor": flavor.flavorid, "image": image.id, "image_a": image_a.id, "group": group.id,
                "rule": rule.id, "fip": fip.uuid, "fip_address": fip.address, "keypair": "bob-key",
                "bob": bob.id, "alice": alice.id, "ec2": ec2.access, "role": Role.objects.get(name="member").id,
                "volume": volume.uuid, "snapshot": snapshot.uuid, "network": network.id,
                "network_uuid": getattr(network, "uuid", network.id), "b_network": b_network.uuid,
                "b_subnet": neutron.subnet_id(b_network), "port": port.port_id,
                "group_uuid": group.uuid, "rule_uuid": rule.uuid, "fip_network": pools.pool_network_id("secpool"),
                "appcred": appcred.id, "id_group": id_group.id, "region": region.id, "service": service.id,
                "endpoint": endpoint.id, "registered_limit": registered_limit.id, "b_limit": b_limit.id,
                "ec2_cred": ec2.credential_id, "transfer": transfer.uuid, "server_group": server_group.uuid},
    )


def fill(text: str, world) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(world.values[m.group(1)]), text)


def send(world, probe: Probe, anonymous=False):
    path = fill(probe.path, world)
    body = json.loads(fill(json.dumps(probe.body), world)) if probe.body is not None else None
    if path.startswith(D + "/"):
        client = Client() if anonymous else world.session_a
        method = getattr(client, probe.method)
        return method(path, body or {}) if probe.method == "post" else method(path)
    client = TokenClient(None if anonymous else world.token_a)
    method = getattr(client, probe.method)
    return method(path, body, format="json") if body is not None else method(path)


def envelope_code(response):
    document = response.json()
    (fault,) = document.values()
    if "NeutronError" in document:  # the Networking API's envelope: a type, no code
        assert fault["type"] and fault["message"]
        return response.status_code
    return fault["code"]


def is_dashboard(probe):
    return probe.path.startswith(D + "/")


def check_probe(world, pattern, kind, probe):
    resolved = resolve(fill(probe.path, world).split("?")[0]).route
    assert resolved.replace("^", "") == pattern.replace("^", ""), "the probe does not hit its route"
    if kind == PUBLIC:
        response = send(world, probe, anonymous=True)
        assert response.status_code not in (401, 403), response.content[:300]
        return
    if probe.path != "/metrics":
        anonymous = send(world, probe, anonymous=True)
        if is_dashboard(probe):
            assert anonymous.status_code == 302 and "/dashboard/login/" in anonymous["Location"]
        else:
            assert anonymous.status_code == 401, anonymous.content[:300]
    response = send(world, probe)
    kind = probe.kind or kind
    if probe.status is not None:
        # Cinder's answer to a URL naming another project (400, no lookup); a dashboard form
        # refused with a message on the page it goes back to
        assert response.status_code == probe.status, response.content[:300]
        if probe.says:
            page = world.session_a.get(response["Location"])
            assert probe.says.lower() in page.content.decode().lower()
    elif kind == ADMIN:
        assert response.status_code == 403, response.content[:300]
        if not is_dashboard(probe):
            assert envelope_code(response) == 403
    elif kind == OWNED:
        assert response.status_code == 404, response.content[:300]
        if not is_dashboard(probe):
            assert envelope_code(response) == 404
    else:
        assert response.status_code < 500 and response.status_code != 401, response.content[:300]
        if kind == SCOPED and response.status_code == 200:
            text = response.content.decode(errors="replace")
            leaked = [str(world.values[key]) for key in B_OBJECTS if str(world.values[key]) in text]
            leaked += [name for name in B_NAMES if name in text]
            assert not leaked, f"project B's objects in alice's answer: {leaked}"


B_OBJECTS = ("server", "image", "fip", "volume", "snapshot", "b", "group_uuid", "rule_uuid", "appcred", "b_limit")
B_NAMES = ("b-server", "b-private", "b-group", "bob-key", "b-vol", "b-snap", "b-only", "b-appcred")


@pytest.mark.parametrize("pattern", list(ROUTES), ids=[f"{r.kind} {r.probes[0].path}" for r in ROUTES.values()])
def test_route(world, pattern):
    route = ROUTES[pattern]
    failures = []
    for probe in route.probes:
        try:
            check_probe(world, pattern, route.kind, probe)
        except AssertionError as error:
            failures.append(f"{probe.method.upper()} {probe.path}: {error}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("method,path,body",
                         [(m, p, b) for m, p, *rest in EXTRA_ADMIN_PROBES for b in [rest[0] if rest else None]])
def test_member_writes_on_shared_routes_are_403(world, method, path, body):
    response = send(world, Probe(method, path, body))
    assert response.status_code == 403, response.content[:300]
    assert envelope_code(response) == 403


def test_django_admin_is_staff_only(world):
    response = world.session_a.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = world.session_a.get("/admin/identity/user/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_owner_sees_what_alice_cannot(world):
    """The probes' objects exist: bob reads each one (so a 404 above is isolation, not absence)."""
    token_b, _ = tokens.issue_token(world.bob, world.b)
    bob = TokenClient(token_b)
    for path in (C + "/servers/{server}", C + "/flavors/{flavor}", IMG + "/images/{image}",
                 C + "/os-security-groups/{group}", C + "/os-floating-ips/{fip}", C + "/os-keypairs/{keypair}",
                 "/volume/v3/{b}/volumes/{volume}", "/volume/v3/{b}/snapshots/{snapshot}",
                 C + "/servers/{server}/metadata/owner", I3 + "/users/{bob}/credentials/OS-EC2/{ec2}",
                 I3 + "/users/{bob}/application_credentials/{appcred}", I3 + "/limits/{b_limit}",
                 N + "/floatingips/{fip}", N + "/security-groups/{group_uuid}",
                 N + "/security-group-rules/{rule_uuid}"):
        response = bob.get(fill(path, world))
        assert response.status_code == 200, (path, response.content[:300])
