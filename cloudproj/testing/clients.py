"""Clients of the cloud's HTTP faces: the API with a Keystone token, the dashboard with a session."""
import sys
from pathlib import Path

from django.test import Client
from rest_framework.test import APIClient


class TokenClient(APIClient):
    """An API client that authenticates with `X-Auth-Token` (None: no token at all)."""

    def __init__(self, token_id=None, **kwargs):
        super().__init__(**kwargs)
        if token_id:
            self.credentials(HTTP_X_AUTH_TOKEN=token_id)


def logged_in(username, password="secret-pass") -> Client:
    """A dashboard browser (Django test client) after a successful login form."""
    client = Client()
    response = client.post("/dashboard/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content[:500]
    return client


# The aws CLI installed beside this interpreter (requirements-dev.txt pins awscli).
AWS_BIN = str(Path(sys.executable).with_name("aws"))
