"""Soft deletion, one way for every model that keeps its deleted rows (instances, volumes,
volume snapshots, images, networks, flavors): `deleted_at` marks the row deleted,
`objects` hides such rows, `all_objects` sees every row (archive and purge, reconciliation,
usage, the admin, listings that ask for deleted rows). Deleted rows go away for good only
through `manage.py db archive_deleted_rows` / `purge` (cloudproj/db_archive.py).

Related-object access (`fixed_ip.network`, `instance.flavor`) and refresh_from_db go through
the base manager, which is `all_objects`: a live row still reaches a deleted one it names.
"""
from django.db import models
from django.utils import timezone


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class SoftDeleteManager(models.Manager.from_queryset(SoftDeleteQuerySet)):  # type: ignore[misc]  # a class made at run time
    """The rows not deleted."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class SoftDeleteModel(models.Model):
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = SoftDeleteManager()
    all_objects = SoftDeleteQuerySet.as_manager()

    class Meta:
        abstract = True
        default_manager_name = "objects"
        base_manager_name = "all_objects"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def soft_delete(self, when=None, update_fields: tuple[str, ...] = ()) -> None:
        """Mark this row deleted (now, or `when`), saving `update_fields` with it."""
        self.deleted_at = when or timezone.now()
        fields = ["deleted_at", *update_fields]
        if any(field.name == "updated_at" for field in self._meta.concrete_fields) and "updated_at" not in fields:
            fields.append("updated_at")
        self.save(update_fields=fields)
