"""The dashboard, under /dashboard/."""
from django.urls import path

from .views import auth

app_name = "dashboard"

urlpatterns = [
    path("", auth.overview, name="overview"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("project/", auth.switch_project, name="switch-project"),
]
