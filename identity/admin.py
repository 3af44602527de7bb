"""Django admin for identity: projects, users, roles, assignments, tokens, EC2 keys, quotas.

Tokens are read-only (only a hash of each token id is stored; it is never searchable) and can
be revoked in bulk. EC2 secret keys are not shown in lists.
"""
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count

from cloudproj.soft_delete_admin import SoftDeleteAdmin

from identity.services import accounts
from identity.services import tokens as token_service
from .models import Ec2Credential, Project, Quota, QuotaUsage, Reservation, Role, RoleAssignment, Token, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["user", "role", "project"]
    fields = ["user", "role", "project", "created_at"]
    readonly_fields = ["created_at"]


class UserRoleAssignmentInline(RoleAssignmentInline):
    fk_name = "user"
    fields = ["role", "project", "created_at"]
    verbose_name_plural = "role assignments (no project: global)"


class ProjectRoleAssignmentInline(RoleAssignmentInline):
    fk_name = "project"
    fields = ["user", "role", "created_at"]
    verbose_name_plural = "members"


class QuotaInline(admin.TabularInline):
    model = Quota
    extra = 0
    fields = ["resource", "hard_limit"]
    verbose_name_plural = "quota overrides (other resources use the defaults)"


@admin.register(Project)
class ProjectAdmin(SoftDeleteAdmin):
    list_display = ["name", "id", "manager", "member_count", "enabled", "created_at", "deleted_at"]
    list_filter = ["enabled", "created_at", "deleted_at"]
    search_fields = ["name", "id", "description", "manager__username"]
    autocomplete_fields = ["manager"]
    readonly_fields = ["id", "created_at", "deleted_at"]
    fields = ["id", "name", "description", "enabled", "manager", "domain_id", "created_at", "deleted_at"]
    inlines = [ProjectRoleAssignmentInline, QuotaInline]
    list_select_related = ["manager"]
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("role_assignments__user", distinct=True))

    # Deleting keeps a tombstone for the resources the project still owns (see
    # identity.services.accounts.delete_project), as the API and `project delete` do.
    def delete_model(self, request, obj):
        accounts.delete_project(obj)

    def delete_queryset(self, request, queryset):
        for project in queryset:
            accounts.delete_project(project)

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj):
        return obj._members


class CloudUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email", "default_project")


class CloudUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin (password hashing, the change-password form) plus the cloud fields."""

    form = CloudUserChangeForm
    add_form = CloudUserCreationForm

    list_display = ["username", "id", "email", "default_project", "global_roles", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "role_assignments__role"]
    search_fields = ["username", "id", "email", "first_name", "last_name", "default_project__name"]
    autocomplete_fields = ["default_project"]
    readonly_fields = ["id", "last_login", "date_joined"]
    list_select_related = ["default_project"]
    inlines = [UserRoleAssignmentInline]
    fieldsets = (
        (None, {"fields": ("id", "username", "password")}),
        ("Cloud", {"fields": ("default_project", "domain_id", "description")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "default_project", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("role_assignments__role")

    def get_inlines(self, request, obj):
        # Adding is a two-step form (as Django's own): roles are granted on the change page.
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # As `user create`: a user with a default project gets EC2 credentials there.
        if not change and obj.default_project_id and not obj.ec2_credentials.exists():
            accounts.create_ec2_credential(obj, obj.default_project)

    @admin.display(description="global roles")
    def global_roles(self, obj):
        names = sorted(a.role.name for a in obj.role_assignments.all() if a.project_id is None)
        return ", ".join(names) or "-"


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "description", "assignment_count"]
    search_fields = ["name", "id", "description"]
    readonly_fields = ["id"]
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_assignments=Count("assignments"))

    @admin.display(description="assignments", ordering="_assignments")
    def assignment_count(self, obj):
        return obj._assignments


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "scope", "created_at"]
    list_filter = ["role", ("project", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "role__name", "project__name"]
    autocomplete_fields = ["user", "role", "project"]
    list_select_related = ["user", "role", "project"]

    @admin.display(description="project", ordering="project__name")
    def scope(self, obj):
        return obj.project.name if obj.project_id else "(global)"


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are issued by the API. Revoking is a bulk action."""

    list_display = ["audit_id", "user", "project", "methods", "issued_at", "expires_at", "revoked"]
    list_filter = ["revoked", "issued_at", "expires_at"]
    # Never the id hash: searching by it would make the admin a token-validity oracle.
    search_fields = ["audit_id", "audit_chain_id", "user__username", "project__name"]
    list_select_related = ["user", "project"]
    fields = ["audit_id", "audit_chain_id", "user", "project", "methods", "issued_at", "expires_at", "revoked"]
    readonly_fields = fields
    date_hierarchy = "issued_at"
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    @admin.action(description="Revoke selected tokens (and tokens re-scoped from them)", permissions=["revoke"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset:
            token_service.revoke_token(token)
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)


@admin.register(Ec2Credential)
class Ec2CredentialAdmin(admin.ModelAdmin):
    list_display = ["access", "user", "project", "created_at"]  # never the secret
    list_filter = ["created_at"]
    search_fields = ["access", "user__username", "project__name"]
    autocomplete_fields = ["user", "project"]
    list_select_related = ["user", "project"]


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = ["project", "resource", "hard_limit"]
    list_filter = ["resource"]
    search_fields = ["project__name", "project__id", "resource"]
    autocomplete_fields = ["project"]
    list_select_related = ["project"]


@admin.register(QuotaUsage)
class QuotaUsageAdmin(admin.ModelAdmin):
    list_display = ["project", "resource", "in_use", "reserved", "updated_at"]
    list_filter = ["resource"]
    search_fields = ["project__name", "project__id", "resource"]
    autocomplete_fields = ["project"]
    list_select_related = ["project"]
    readonly_fields = ["updated_at"]


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["uuid", "project", "resource", "delta", "created_at", "expires_at"]
    list_filter = ["usage__resource", "expires_at"]
    search_fields = ["uuid", "usage__project__name", "usage__resource"]
    raw_id_fields = ["usage"]
    list_select_related = ["usage__project"]

    @admin.display(description="project", ordering="usage__project__name")
    def project(self, obj):
        return obj.usage.project

    @admin.display(description="resource", ordering="usage__resource")
    def resource(self, obj):
        return obj.usage.resource
