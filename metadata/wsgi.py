"""WSGI entry of the metadata service (nova-api-metadata):

    gunicorn metadata.wsgi --bind $METADATA_BIND:$METADATA_PORT

The project's settings, but every request is resolved against metadata.api.urls only (the APIs,
the dashboard and the admin are not reachable on this port, whatever DJANGO_SETTINGS_MODULE
says) and goes through METADATA_MIDDLEWARE only: no sessions, CSRF or static files, and no
Host check (guests ask for 169.254.169.254, which ALLOWED_HOSTS need not list).
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudproj.settings")

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

URLCONF = "metadata.api.urls"
METADATA_MIDDLEWARE = ["cloudproj.middleware.RequestIdMiddleware", "cloudproj.middleware.RejectNulMiddleware"]


class MetadataHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        project_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = METADATA_MIDDLEWARE  # read once, here, when the chain is built
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = project_middleware

    def get_response(self, request):
        request.urlconf = URLCONF  # honoured by URL resolution and the error handlers
        return super().get_response(request)


django.setup(set_prefix=False)
application = MetadataHandler()
