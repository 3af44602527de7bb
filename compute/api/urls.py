from django.urls import include, path

urlpatterns = [
    # quota sets and limits (compute/api/quota_urls.py)
    path("v2.1/", include("compute.api.quota_urls")),
]
