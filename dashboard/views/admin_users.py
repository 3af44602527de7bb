"""Admin page of one user: edit (name, email, default project, enabled), reset the password,
delete; and every user's own password change. All through identity.services.accounts and the
policy rules the Identity API enforces (`identity:update_user`, `identity:delete_user`,
`identity:change_password`)."""
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from identity.models import User
from identity.services import accounts
from identity.services.policy import enforce

from ..admin_forms import NewPasswordForm, OwnPasswordForm, UserEditForm
from .admin_common import submitted
from .common import dashboard_view

USERS = "/dashboard/admin/users/"


def _user_page(request, user, edit_form=None, password_form=None, status=200):
    edit_form = edit_form or UserEditForm(prefix="edit", initial={
        "name": user.username, "email": user.email, "enabled": user.is_active,
        "default_project": user.default_project_id})
    context = {"subject": user, "edit_form": edit_form,
               "password_form": password_form or NewPasswordForm(prefix="reset"),
               "is_self": user.id == request.user.id}
    return render(request, "dashboard/admin/user.html", context, status=status)


@require_http_methods(["GET", "POST"])
@dashboard_view
def user_detail(request, user_id):
    enforce(request.ctx, "identity:get_user", {"user_id": user_id})
    user = get_object_or_404(User, pk=user_id)
    if request.method == "GET":
        return _user_page(request, user)
    enforce(request.ctx, "identity:update_user", {"user_id": user_id})
    form = UserEditForm(request.POST, prefix="edit")
    if form.is_valid() and user.id == request.user.id and not form.cleaned_data["enabled"]:
        form.add_error("enabled", "You cannot disable the user you are logged in as.")
    if not form.errors and submitted(
            request, form, lambda data: accounts.update_user(
                user, name=data["name"], email=data["email"], default_project=data["default_project"],
                enabled=data["enabled"]),
            lambda saved: f"User {saved.username} saved{'' if saved.is_active else ' (disabled)'}.",
            errors=(accounts.Duplicate,), error_field="name",
            describe=lambda _: f"A user named {form.cleaned_data['name']!r} already exists."):
        return redirect(f"{USERS}{user.id}/")
    user.refresh_from_db()
    return _user_page(request, user, edit_form=form, status=400)


@require_POST
@dashboard_view
def user_password_reset(request, user_id):
    enforce(request.ctx, "identity:update_user", {"user_id": user_id})
    user = get_object_or_404(User, pk=user_id)
    form = NewPasswordForm(request.POST, prefix="reset")
    if not form.is_valid():
        return _user_page(request, user, password_form=form, status=400)
    accounts.update_user(user, password=form.cleaned_data["password"])
    if user.id == request.user.id:
        update_session_auth_hash(request, user)
    messages.success(request, f"Password of {user.username} reset; its tokens are revoked.")
    return redirect(f"{USERS}{user.id}/")


@require_POST
@dashboard_view
def user_delete(request, user_id):
    enforce(request.ctx, "identity:delete_user", {"user_id": user_id})
    user = get_object_or_404(User, pk=user_id)
    if user.id == request.user.id:
        messages.error(request, "You cannot delete the user you are logged in as.")
        return redirect(f"{USERS}{user.id}/")
    name = user.username
    try:
        with transaction.atomic():
            accounts.delete_user(user)
    except (ProtectedError, RestrictedError):  # as the Identity API's 409
        messages.error(request, f"User {name} still owns other resources (servers, volumes...): "
                                "delete those first, or disable the user.")
        return redirect(f"{USERS}{user.id}/")
    messages.success(request, f"User {name} deleted.")
    return redirect(USERS)


@require_http_methods(["GET", "POST"])
@dashboard_view
def own_password(request):
    """Any logged-in user changes its own password (the current one is checked), as
    `POST /v3/users/{id}/password` does; the session stays logged in, its tokens are revoked."""
    user = request.user
    enforce(request.ctx, "identity:change_password", {"user_id": user.id})
    form = OwnPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not accounts.check_password(user, form.cleaned_data["original"]):
            form.add_error("original", "The current password is wrong.")
        else:
            accounts.update_user(user, password=form.cleaned_data["password"])
            update_session_auth_hash(request, user)
            messages.success(request, "Your password is changed.")
            return redirect("/dashboard/password/")
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/password.html", {"form": form}, status=status)
