from django.contrib import admin

from .models import SecurityGroup, SecurityGroupMember, SecurityGroupRule


class RuleInline(admin.TabularInline):
    model = SecurityGroupRule
    fk_name = "parent_group"
    extra = 0
    fields = ("protocol", "from_port", "to_port", "cidr", "group")
    raw_id_fields = ("group",)


@admin.register(SecurityGroup)
class SecurityGroupAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "project", "description", "created_at")
    search_fields = ("name", "project__name", "project__id")
    inlines = [RuleInline]


@admin.register(SecurityGroupMember)
class SecurityGroupMemberAdmin(admin.ModelAdmin):
    list_display = ("id", "security_group", "instance", "created_at")
    raw_id_fields = ("security_group", "instance")
