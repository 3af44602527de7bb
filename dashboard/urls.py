"""The dashboard, under /dashboard/."""
from django.urls import path

from .views import admin, auth, floating, instance_detail, instance_manage, instances, keypairs, launch, vnc

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
]
