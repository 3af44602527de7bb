"""Compute v2.1 URLs under /compute/. Paths work with and without a trailing slash."""
from django.urls import include, path, re_path

from . import availability_zones, empty_ids, extensions, external_events, flavors, hypervisors, os_hosts, services, tenant_usage
from . import versions
from . import image_metadata, instance_actions, keypairs, tenant_networks
from . import volumes as volume_proxy
from . import server_actions, server_metadata, server_password, servers
from . import aggregates, migrations_api, server_groups, server_locks, server_migrations

FLAVOR = r"(?P<flavor_id>[^/]+)"
SERVER = r"(?P<server_id>[^/]+)"


def route(pattern: str, view):
    return re_path(rf"^v2\.1/{pattern}/?$", view.as_view())


urlpatterns = [
    re_path(r"^$", versions.VersionsView.as_view(), name="compute-versions"),
    re_path(r"^v2\.1/?$", versions.VersionView.as_view(), name="compute-version"),
    re_path(r"^v2/?$", versions.LegacyVersionView.as_view(), name="compute-version-v2"),
    route(r"extensions", extensions.ExtensionListView),
    route(r"extensions/(?P<alias>[^/]+)", extensions.ExtensionView),
    # flavors
    route(r"flavors", flavors.FlavorListView),
    route(r"flavors/detail", flavors.FlavorDetailListView),
    route(rf"flavors/{FLAVOR}", flavors.FlavorView),
    route(rf"flavors/{FLAVOR}/os-extra_specs", flavors.ExtraSpecsView),
    route(rf"flavors/{FLAVOR}/os-extra_specs/(?P<key>[^/]+)", flavors.ExtraSpecView),
    route(rf"flavors/{FLAVOR}/os-flavor-access", flavors.FlavorAccessView),
    route(rf"flavors/{FLAVOR}/action", flavors.FlavorActionView),
    # services, hypervisors, availability zones
    route(r"os-services", services.ServiceListView),
    route(r"os-services/(?P<key>[^/]+)", services.ServiceItemView),
    route(r"os-hypervisors", hypervisors.HypervisorListView),
    route(r"os-hypervisors/detail", hypervisors.HypervisorDetailListView),
    route(r"os-hypervisors/statistics", hypervisors.HypervisorStatisticsView),
    route(r"os-hypervisors/(?P<hypervisor_id>[^/]+)", hypervisors.HypervisorView),
    route(r"os-hypervisors/(?P<hypervisor_id>[^/]+)/uptime", hypervisors.HypervisorUptimeView),
    route(r"os-hypervisors/(?P<pattern>[^/]+)/search", hypervisors.HypervisorSearchView),
    route(r"os-hypervisors/(?P<pattern>[^/]+)/servers", hypervisors.HypervisorServersView),
    route(r"os-aggregates", aggregates.AggregateListView),
    route(r"os-aggregates/(?P<aggregate_id>[^/]+)", aggregates.AggregateView),
    route(r"os-aggregates/(?P<aggregate_id>[^/]+)/action", aggregates.AggregateActionView),
    route(r"os-server-groups", server_groups.ServerGroupListView),
    route(r"os-server-groups/(?P<group_id>[^/]+)", server_groups.ServerGroupView),
    route(r"os-migrations", migrations_api.MigrationListView),
    route(rf"servers/{SERVER}/diagnostics", server_locks.ServerDiagnosticsView),
    route(rf"servers/{SERVER}/migrations", server_migrations.ServerMigrationListView),
    route(rf"servers/{SERVER}/migrations/(?P<migration_id>[^/]+)", server_migrations.ServerMigrationView),
    route(rf"servers/{SERVER}/migrations/(?P<migration_id>[^/]+)/action", server_migrations.ServerMigrationActionView),
    route(rf"servers/{SERVER}/topology", server_locks.ServerTopologyView),
    route(r"os-availability-zone", availability_zones.AvailabilityZoneListView),
    route(r"os-availability-zone/detail", availability_zones.AvailabilityZoneDetailView),
    # os-hosts (2.1-2.42), tenant usage and the usage audit log
    route(r"os-hosts", os_hosts.HostListView),
    route(r"os-hosts/(?P<host>[^/]+)", os_hosts.HostView),
    route(r"os-hosts/(?P<host>[^/]+)/reboot", os_hosts.HostRebootView),
    route(r"os-hosts/(?P<host>[^/]+)/shutdown", os_hosts.HostShutdownView),
    route(r"os-hosts/(?P<host>[^/]+)/startup", os_hosts.HostStartupView),
    # no trailing slash: os-simple-tenant-usage/ asks for project "" (404, as Nova)
    re_path(r"^v2\.1/os-simple-tenant-usage$", tenant_usage.TenantUsageListView.as_view()),
    route(r"os-simple-tenant-usage/(?P<project_id>[^/]+)", tenant_usage.TenantUsageView),
    route(r"os-instance_usage_audit_log", tenant_usage.AuditLogListView),
    route(r"os-instance_usage_audit_log/(?P<before>[^/]+)", tenant_usage.AuditLogView),
    route(r"os-server-external-events", external_events.ExternalEventsView),
    # servers, their actions, metadata and addresses
    route(r"servers", servers.ServerListView),
    route(r"servers/detail", servers.ServerDetailListView),
    route(rf"servers/{SERVER}", servers.ServerView),
    route(rf"servers/{SERVER}/action", server_actions.ServerActionView),
    route(rf"servers/{SERVER}/metadata", server_metadata.ServerMetadataView),
    route(rf"servers/{SERVER}/metadata/(?P<key>[^/]+)", server_metadata.ServerMetadataItemView),
    route(rf"servers/{SERVER}/os-server-password", server_password.ServerPasswordView),
    route(rf"servers/{SERVER}/ips", servers.ServerIPsView),
    route(rf"servers/{SERVER}/ips/(?P<network_label>[^/]+)", servers.ServerIPView),
    # key pairs and instance actions
    route(r"os-keypairs", keypairs.KeypairListView),
    route(r"os-keypairs/(?P<name>[^/]+)", keypairs.KeypairView),
    route(r"servers/(?P<server_id>[^/]+)/os-instance-actions", instance_actions.InstanceActionListView),
    route(
        r"servers/(?P<server_id>[^/]+)/os-instance-actions/(?P<request_id>[^/]+)",
        instance_actions.InstanceActionView,
    ),
    route(r"os-tenant-networks", tenant_networks.TenantNetworkListView),
    route(r"os-tenant-networks/(?P<network_id>[^/]+)", tenant_networks.TenantNetworkView),
    route(r"images/(?P<image_id>[^/]+)/metadata", image_metadata.ImageMetadataView),
    route(r"images/(?P<image_id>[^/]+)/metadata/(?P<key>[^/]+)", image_metadata.ImageMetadataItemView),
    # the volume proxies (over volumes.services)
    re_path(r"^v2\.1/os-volumes/$", empty_ids.volumes_slash),  # GET/DELETE volume "": 404
    route(r"os-volumes", volume_proxy.VolumeCollection),
    route(r"os-volumes/detail", volume_proxy.VolumeDetailCollection),
    route(r"os-volumes/(?P<volume_id>[^/]+)", volume_proxy.VolumeItem),
    route(r"os-snapshots", volume_proxy.SnapshotCollection),
    route(r"os-snapshots/detail", volume_proxy.SnapshotDetailCollection),
    route(r"os-snapshots/(?P<snapshot_id>[^/]+)", volume_proxy.SnapshotItem),
    # quota sets and limits (compute/api/quota_urls.py)
    path("v2.1/", include("compute.api.quota_urls")),
    # nova-network calls (/os-networks ...) and the image proxy (/images) live in their apps
    path("v2.1/", include("network.api.compute_urls")),
    re_path(r"^v2\.1/os-security-groups/$", empty_ids.security_groups_slash),  # DELETE (empty id): 404
    path("v2.1/", include("secgroups.api.compute_urls")),
    path("v2.1/", include("floating.api.compute_urls")),
    path("v2.1/", include("consoles.api.urls")),
    re_path(r"^v2\.1/images/$", empty_ids.images_slash),  # DELETE images/ (empty id): 404
    path("v2.1/", include("images.api.compute_urls")),
    path("v2.1/", include("volumes.api.compute_urls")),
]
