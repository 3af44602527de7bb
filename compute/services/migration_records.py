"""Migration records (os-migrations): every move of an instance between hosts. The code that
moves instances (resize, migrate, evacuate) writes compute.models.Migration rows; this
module lists them.

    list_migrations(host=None, status=None, instance_uuid=None, migration_type=None, source_compute=None)
"""
import uuid as uuid_lib

from django.db.models import Q

from ..models import Migration


def list_migrations(host=None, status=None, instance_uuid=None, migration_type=None, source_compute=None):
    qs = Migration.objects.all()
    if host:
        qs = qs.filter(Q(source_compute=host) | Q(dest_compute=host))
    if status:
        qs = qs.filter(status=status)
    if instance_uuid:
        try:
            qs = qs.filter(instance_uuid=uuid_lib.UUID(str(instance_uuid)))
        except ValueError:
            return Migration.objects.none()
    if migration_type:
        qs = qs.filter(migration_type=migration_type)
    if source_compute:
        qs = qs.filter(source_compute=source_compute)
    return qs.order_by("-created_at", "-id")
