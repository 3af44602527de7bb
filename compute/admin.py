"""Django admin for flavors, services and compute nodes."""
from django.contrib import admin

from .models import ComputeNode, Flavor, FlavorAccess, FlavorExtraSpec, Service, is_up


class FlavorExtraSpecInline(admin.TabularInline):
    model = FlavorExtraSpec
    extra = 0


class FlavorAccessInline(admin.TabularInline):
    model = FlavorAccess
    extra = 0


@admin.register(Flavor)
class FlavorAdmin(admin.ModelAdmin):
    list_display = (
        "name", "flavorid", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "swap",
        "is_public", "disabled", "deleted",
    )
    list_filter = ("is_public", "disabled", "deleted")
    search_fields = ("name", "flavorid")
    inlines = [FlavorExtraSpecInline, FlavorAccessInline]


@admin.register(FlavorAccess)
class FlavorAccessAdmin(admin.ModelAdmin):
    list_display = ("flavor", "project_id", "created_at")
    list_filter = ("flavor",)
    search_fields = ("project_id", "flavor__name", "flavor__flavorid")


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = (
        "binary", "host", "availability_zone", "disabled", "up", "forced_down", "report_count",
        "last_seen_up",
    )
    list_filter = ("binary", "availability_zone", "disabled", "forced_down")
    search_fields = ("host", "binary", "disabled_reason")
    readonly_fields = ("report_count", "last_seen_up", "created_at", "updated_at")

    @admin.display(boolean=True, description="up")
    def up(self, obj):
        return is_up(obj)


@admin.register(ComputeNode)
class ComputeNodeAdmin(admin.ModelAdmin):
    list_display = (
        "hypervisor_hostname", "host", "hypervisor_type", "vcpus", "vcpus_used", "memory_mb",
        "memory_mb_used", "local_gb", "local_gb_used", "running_vms", "updated_at",
    )
    list_filter = ("hypervisor_type",)
    search_fields = ("host", "hypervisor_hostname", "host_ip")
    readonly_fields = ("created_at", "updated_at")
