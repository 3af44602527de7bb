"""The dashboard, under /dashboard/."""
from django.urls import path

from .views import auth, instances, launch

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
    path(INSTANCE + "action/", instances.instance_action, name="instance-action"),
    path(INSTANCE + "delete/", instances.instance_delete, name="instance-delete"),
    path("admin/instances/", instances.admin_instance_list, name="admin-instances"),
]
