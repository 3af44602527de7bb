"""What guests hand to the metadata service."""
from django.db import models
from django.utils import timezone


class ServerPassword(models.Model):
    """The password a guest posted to /openstack/<version>/password (cloud-init, or Windows'
    cloudbase-init: encrypted with the key pair's public key, base64), as Nova keeps it in
    the instance's system metadata: set once by the guest, read and cleared by the owner
    through `os-server-password`."""

    instance_uuid = models.UUIDField(unique=True)
    password = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"password of {self.instance_uuid}"
