"""EC2 ids of images. Instances, volumes and snapshots have integer primary keys and their EC2
ids are those in hex (`i-0000000a`); images are keyed by UUID, so each image gets a row here
the first time an EC2 id is asked for it, and `ami-<row id in hex>` names it from then on (the
EC2 API and the metadata service's `ami-id` read the same row)."""
from django.db import models
from django.utils import timezone

IMAGE_KINDS = ("ami", "aki", "ari")


class ImageId(models.Model):
    image_uuid = models.CharField(max_length=36, unique=True)
    kind = models.CharField(max_length=3, default="ami", choices=[(k, k) for k in IMAGE_KINDS])
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.kind}-{self.pk:08x} ({self.image_uuid})"


class ClientToken(models.Model):
    """RunInstances' idempotency: the reservation a project's ClientToken created; the same
    token again answers that reservation instead of creating instances again."""

    project_id = models.CharField(max_length=64)
    token = models.CharField(max_length=64)
    reservation_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project_id", "token"], name="ec2_client_token_unique")]
