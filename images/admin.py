from django.contrib import admin

from cloudproj.soft_delete_admin import SoftDeleteAdmin

from .models import Image


@admin.register(Image)
class ImageAdmin(SoftDeleteAdmin):
    list_display = ("name", "id", "status", "visibility", "disk_format", "container_format", "size",
                    "owner", "protected", "created_at", "deleted_at")
    list_filter = ("status", "visibility", "disk_format", "container_format", "protected",
                   ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "id", "checksum", "os_hash_value", "owner__name", "owner__id")
    readonly_fields = ("id", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
                       "created_at", "updated_at")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    ordering = ("-created_at",)
