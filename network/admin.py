from django.contrib import admin

from cloudproj.soft_delete_admin import SoftDeleteAdmin

from .models import FixedIP, Network


@admin.register(Network)
class NetworkAdmin(SoftDeleteAdmin):
    list_display = ("id", "label", "cidr", "gateway", "bridge", "bridge_interface", "multi_host", "host",
                    "project", "deleted_at")
    list_filter = ("multi_host", ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("label", "cidr", "bridge", "uuid")
    readonly_fields = ("uuid", "created_at", "updated_at")


@admin.register(FixedIP)
class FixedIPAdmin(admin.ModelAdmin):
    list_display = ("address", "network", "mac_address", "hostname", "host", "instance_uuid", "allocated",
                    "leased", "reserved", "updated_at")
    list_filter = ("allocated", "leased", "reserved", "network")
    search_fields = ("address", "mac_address", "hostname", "host", "instance_uuid")
    list_select_related = ("network",)
