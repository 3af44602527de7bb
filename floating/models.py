"""nova-network's floating IPs: public addresses an operator creates in pools, a project
allocates (quota `floating_ips`) and associates to a server's fixed address.

One row per address. `project` set: allocated to that project. `fixed_ip` + `instance_uuid`
set: associated; `host` is the host whose agent does the NAT (the host serving the fixed
address's network) and `interface` (or that host's FLOATING_INTERFACE when empty) carries the
address. The host side is regenerated from these rows (floating.services.host).
"""
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class FloatingIP(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # the API's id
    address = models.GenericIPAddressField(protocol="IPv4", unique=True)
    pool = models.CharField(max_length=255, db_index=True)
    # The public interface the address is added to; "" = the NAT host's FLOATING_INTERFACE.
    interface = models.CharField(max_length=15, blank=True, default="")
    project = models.ForeignKey(
        "identity.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="floating_ips"
    )
    auto_assigned = models.BooleanField(default=False)
    fixed_ip = models.ForeignKey(
        "network.FixedIP", null=True, blank=True, on_delete=models.SET_NULL, related_name="floating_ips"
    )
    instance_uuid = models.UUIDField(null=True, blank=True, db_index=True)  # no FK: compute is separate
    host = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    allocated_at = models.DateTimeField(null=True, blank=True)
    associated_at = models.DateTimeField(null=True, blank=True)
    # The Networking API's view: a free-text description, a revision bumped by every change
    # (reset by allocation) and whether the NAT host reported the current association applied.
    description = models.CharField(max_length=255, blank=True, default="")
    revision_number = models.BigIntegerField(default=0)
    nat_applied = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # associated implies allocated to a project
            models.CheckConstraint(condition=Q(instance_uuid__isnull=True) | Q(project__isnull=False),
                                   name="floatingip_associated_is_allocated"),
        ]
        indexes = [
            models.Index(fields=["pool", "id"], condition=Q(project__isnull=True), name="floatingip_free_idx"),
        ]

    def __str__(self):
        return f"{self.address} ({self.pool})"

    def save(self, *args, **kwargs):
        """Every saved change bumps `revision_number`, unless the caller sets it itself."""
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and (update_fields is None or "revision_number" not in update_fields):
            self.revision_number += 1
            if update_fields is not None:
                kwargs["update_fields"] = [*update_fields, "revision_number"]
        super().save(*args, **kwargs)

    @property
    def associated(self) -> bool:
        return self.instance_uuid is not None
