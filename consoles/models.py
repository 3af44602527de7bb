"""Console tokens: only the SHA-256 of a token is kept; the token itself is in the URL the
user was given, once."""
import hashlib

from django.db import models
from django.utils import timezone


def hash_console_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleAuthToken(models.Model):
    """Opens one instance's console on one host (the VNC server at host:port) until expires_at."""

    token_hash = models.CharField(max_length=64, unique=True)
    instance_uuid = models.UUIDField(db_index=True)
    compute_host = models.CharField(max_length=255)  # the instance's host when the token was made
    host = models.CharField(max_length=255)  # where the proxy reaches the VNC server
    port = models.PositiveIntegerField()
    console_type = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.console_type} console of {self.instance_uuid} until {self.expires_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
