"""The dashboard, under /dashboard/."""
from django.urls import path

from .views import admin, auth, floating, instance_detail, instance_manage, instances, keypairs, launch
from .views import api_access, images, secgroups, usage, volumes

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
    # project panels: images, volumes, security groups, API access, usage
    path("images/", images.image_list, name="images"),
    path("images/upload/", images.image_upload, name="image-upload"),
    path("images/<str:image_id>/edit/", images.image_edit, name="image-edit"),
    path("images/<str:image_id>/delete/", images.image_delete, name="image-delete"),
    path("volumes/", volumes.volume_list, name="volumes"),
    path("volumes/<str:volume_id>/extend/", volumes.volume_extend, name="volume-extend"),
    path("volumes/attach/", volumes.volume_attach, name="volume-attach"),
    path("volumes/<str:volume_id>/detach/", volumes.volume_detach, name="volume-detach"),
    path("volumes/<str:volume_id>/snapshot/", volumes.volume_snapshot, name="volume-snapshot"),
    path("volumes/<str:volume_id>/delete/", volumes.volume_delete, name="volume-delete"),
    path("volumes/snapshots/<str:snapshot_id>/delete/", volumes.snapshot_delete, name="snapshot-delete"),
    path("security-groups/", secgroups.group_list, name="security-groups"),
    path("security-groups/<str:group_id>/", secgroups.group_detail, name="security-group"),
    path("security-groups/<str:group_id>/delete/", secgroups.group_delete, name="security-group-delete"),
    path("security-groups/<str:group_id>/rules/<str:rule_id>/delete/", secgroups.rule_delete, name="rule-delete"),
    path("api-access/", api_access.api_access, name="api-access"),
    path("api-access/openrc/", api_access.openrc, name="openrc"),
    path("api-access/clouds.yaml", api_access.clouds_yaml, name="clouds-yaml"),
    path("api-access/ec2/create/", api_access.ec2_create, name="ec2-create"),
    path("api-access/ec2/<str:access>/", api_access.ec2_show, name="ec2-show"),
    path("api-access/ec2/<str:access>/delete/", api_access.ec2_delete, name="ec2-delete"),
    path("usage.csv", usage.usage_csv, name="usage-csv"),
    path("admin/instances/", instances.admin_instance_list, name="admin-instances"),
    path("admin/services/", admin.service_list, name="admin-services"),
    path("admin/services/update/", admin.service_update, name="admin-service-update"),
    path("admin/hypervisors/", admin.hypervisor_list, name="admin-hypervisors"),
]
