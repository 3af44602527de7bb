"""The dashboard, under /dashboard/."""
from django.urls import path

from .views import (
    admin, admin_flavors, admin_identity, admin_networks, admin_quotas, auth, floating, instance_detail,
    instance_manage, instances, keypairs, launch, vnc,
)

app_name = "dashboard"
INSTANCE = "instances/<uuid:instance_id>/"

urlpatterns = [
    path("", auth.overview, name="overview"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("project/", auth.switch_project, name="switch-project"),
    path("instances/", instances.instance_list, name="instances"),
    path("instances/changes/", instances.instance_changes, name="instance-changes"),
    path("instances/launch/", launch.launch, name="launch"),
    path(INSTANCE, instance_detail.instance_detail, name="instance"),
    path(INSTANCE + "console/", instance_detail.instance_console, name="instance-console"),
    path(INSTANCE + "vnc/", vnc.instance_vnc, name="instance-vnc"),
    path(INSTANCE + "action/", instances.instance_action, name="instance-action"),
    path(INSTANCE + "delete/", instances.instance_delete, name="instance-delete"),
    path(INSTANCE + "rename/", instance_manage.instance_rename, name="instance-rename"),
    path(INSTANCE + "rebuild/", instance_manage.instance_rebuild, name="instance-rebuild"),
    path(INSTANCE + "snapshot/", instance_manage.instance_snapshot, name="instance-snapshot"),
    path(INSTANCE + "volumes/", instance_manage.instance_volume, name="instance-volume"),
    path(INSTANCE + "security-groups/", instance_manage.instance_security_group, name="instance-security-group"),
    path("keypairs/", keypairs.keypair_list, name="keypairs"),
    path("keypairs/<str:name>/download/", keypairs.keypair_download, name="keypair-download"),
    path("keypairs/<str:name>/delete/", keypairs.keypair_delete, name="keypair-delete"),
    path("floating-ips/", floating.floating_ip_list, name="floating-ips"),
    path("floating-ips/allocate/", floating.floating_ip_allocate, name="floating-ip-allocate"),
    path("floating-ips/<str:address>/release/", floating.floating_ip_release, name="floating-ip-release"),
    path("floating-ips/associate/", floating.floating_ip_associate, name="floating-ip-associate"),
    path("floating-ips/<str:address>/disassociate/", floating.floating_ip_disassociate,
         name="floating-ip-disassociate"),
    path("admin/instances/", instances.admin_instance_list, name="admin-instances"),
    path("admin/services/", admin.service_list, name="admin-services"),
    path("admin/services/update/", admin.service_update, name="admin-service-update"),
    path("admin/hypervisors/", admin.hypervisor_list, name="admin-hypervisors"),
    # admin: flavors, projects/users/quotas, networks and floating ranges
    path("admin/flavors/", admin_flavors.flavor_list, name="admin-flavors"),
    path("admin/flavors/<str:flavorid>/delete/", admin_flavors.flavor_delete, name="admin-flavor-delete"),
    path("admin/flavors/<str:flavorid>/access/", admin_flavors.flavor_access, name="admin-flavor-access"),
    path("admin/flavors/<str:flavorid>/access/remove/", admin_flavors.flavor_access_remove,
         name="admin-flavor-access-remove"),
    path("admin/projects/", admin_identity.project_list, name="admin-projects"),
    path("admin/projects/<str:project_id>/", admin_identity.project_detail, name="admin-project"),
    path("admin/projects/<str:project_id>/enable/", admin_identity.project_enable, name="admin-project-enable"),
    path("admin/projects/<str:project_id>/roles/", admin_identity.project_role_add, name="admin-project-role-add"),
    path("admin/projects/<str:project_id>/roles/remove/", admin_identity.project_role_remove,
         name="admin-project-role-remove"),
    path("admin/projects/<str:project_id>/quotas/", admin_quotas.project_quotas, name="admin-project-quotas"),
    path("admin/users/", admin_identity.user_list, name="admin-users"),
    path("admin/quotas/", admin_quotas.default_quotas, name="admin-default-quotas"),
    path("admin/networks/", admin_networks.network_list, name="admin-networks"),
    path("admin/networks/<uuid:network_uuid>/delete/", admin_networks.network_delete, name="admin-network-delete"),
    path("admin/floating-ranges/", admin_networks.floating_range_list, name="admin-floating-ranges"),
    path("admin/floating-ranges/delete/", admin_networks.floating_range_delete, name="admin-floating-range-delete"),
]
