from django.contrib import admin

from .models import FloatingIP


@admin.register(FloatingIP)
class FloatingIPAdmin(admin.ModelAdmin):
    list_display = ("address", "pool", "interface", "project", "instance_uuid", "fixed_ip", "host",
                    "allocated_at", "associated_at")
    list_filter = ("pool", "interface", "host")
    search_fields = ("address", "pool", "instance_uuid", "host", "uuid")
    list_select_related = ("project", "fixed_ip")
    readonly_fields = ("uuid", "created_at", "updated_at")
