"""Django admin for flavors, services and compute nodes."""
from django.contrib import admin

from cloudproj.soft_delete_admin import SoftDeleteAdmin

from .models import ComputeNode, Flavor, FlavorAccess, FlavorExtraSpec, Service, is_up


class FlavorExtraSpecInline(admin.TabularInline):
    model = FlavorExtraSpec
    extra = 0


class FlavorAccessInline(admin.TabularInline):
    model = FlavorAccess
    extra = 0


@admin.register(Flavor)
class FlavorAdmin(SoftDeleteAdmin):
    list_display = (
        "name", "flavorid", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "swap",
        "is_public", "disabled", "deleted_at",
    )
    list_filter = ("is_public", "disabled", ("deleted_at", admin.EmptyFieldListFilter))
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


# --- instances ---------------------------------------------------------------------------------
from .models import Claim, Instance, InstanceAction, InstanceActionEvent, InstanceFault, KeyPair  # noqa: E402 - the instances section's own import


class InstanceFaultInline(admin.TabularInline):
    model = InstanceFault
    extra = 0
    readonly_fields = ("code", "message", "details", "host", "created_at")


@admin.register(Instance)
class InstanceAdmin(SoftDeleteAdmin):
    list_display = (
        "uuid", "display_name", "project", "host", "vm_state", "task_state", "power_state",
        "flavor_name", "created_at", "deleted_at",
    )
    list_filter = ("vm_state", "task_state", "host", "availability_zone")
    search_fields = ("uuid", "display_name", "hostname", "host", "reservation_id")
    readonly_fields = ("uuid", "created_at", "updated_at")
    inlines = [InstanceFaultInline]


class InstanceActionEventInline(admin.TabularInline):
    model = InstanceActionEvent
    extra = 0


@admin.register(InstanceAction)
class InstanceActionAdmin(admin.ModelAdmin):
    list_display = ("instance", "action", "request_id", "start_time", "finish_time", "message")
    list_filter = ("action",)
    search_fields = ("request_id", "instance__uuid")
    inlines = [InstanceActionEventInline]


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ("instance", "host", "vcpus", "memory_mb", "disk_gb", "created_at")
    list_filter = ("host",)


@admin.register(KeyPair)
class KeyPairAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "type", "fingerprint", "created_at")
    search_fields = ("name", "user__username", "fingerprint")
