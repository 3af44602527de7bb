"""The front page: where the APIs live and how to reach them (the dashboard grows here)."""
from django.shortcuts import render


def home(request):
    base = request.build_absolute_uri("/").rstrip("/")
    endpoints = [
        ("Identity v3", f"{base}/identity/v3"),
        ("Compute v2.1", f"{base}/compute/v2.1"),
        ("Block Storage v3", f"{base}/volume/v3"),
        ("Image v2", f"{base}/image"),
        ("OpenAPI schema", f"{base}/api/schema/"),
    ]
    return render(request, "home.html", {"endpoints": endpoints, "base": base})
