from django.urls import path

from .views import endpoint

urlpatterns = [path("", endpoint, name="ec2-endpoint-root")]
