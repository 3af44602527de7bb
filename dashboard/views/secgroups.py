"""Security groups of the project and their rules, through secgroups.services (the Compute
API's os-security-groups services) after the same policy checks."""
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from identity.services.policy import enforce
from secgroups.services import SecurityGroupError, SecurityGroupNotFound, groups, rules

from ..project_forms import RuleForm, SecurityGroupForm
from ..datatable import Column, Table
from .common import dashboard_view, error_message

PAGE = "/dashboard/security-groups/"
COLUMNS = [Column("name", "Name", ("name",)), Column("description", "Description", ("description",)),
           Column("rules", "Rules", ("rule_count",)), Column("actions", "Actions")]


def _target(ctx) -> dict:
    return {"project_id": ctx.project_id}


def _group(ctx, group_id, action: str):
    enforce(ctx, action, _target(ctx))
    return groups.get_group(group_id, ctx.project_id)  # another project's: 404


def _page(group) -> str:
    return f"{PAGE}{group.pk}/"


@dashboard_view
def group_list(request):
    ctx = request.ctx
    enforce(ctx, "compute:security_groups:list", _target(ctx))
    form = SecurityGroupForm(request.POST or None)
    if request.method == "POST":
        enforce(ctx, "compute:security_groups:create", _target(ctx))
        if form.is_valid():
            try:
                group = groups.create_group(ctx.project_id, form.cleaned_data["name"], form.cleaned_data["description"])
            except SecurityGroupError as exc:
                form.add_error(None, error_message(exc))
            else:
                messages.success(request, f"Security group {group.name} created.")
                return redirect(_page(group))
    groups.ensure_default(ctx.project_id)  # as listing them through the API does
    table = Table(request, groups.groups_of_project(ctx.project_id).annotate(rule_count=Count("rules")),
                  COLUMNS, default="name", name="security-groups")
    context = {"groups": table.object_list, "table": table, "form": form,
               "bulk_actions": (("delete", "Delete security groups", True),)}
    return render(request, "dashboard/secgroups/list.html", context, status=400 if form.errors else 200)


@dashboard_view
def group_detail(request, group_id):
    ctx = request.ctx
    group = _group(ctx, group_id, "compute:security_groups:show")
    edit_form = SecurityGroupForm(initial={"name": group.name, "description": group.description}, prefix="edit")
    rule_form = RuleForm(prefix="rule", groups=groups.groups_of_project(ctx.project_id))
    status = 200
    if request.method == "POST":
        if request.POST.get("kind") == "rule":
            enforce(ctx, "compute:security_group_rules:create", _target(ctx))
            rule_form = RuleForm(request.POST, prefix="rule", groups=groups.groups_of_project(ctx.project_id))
            if rule_form.is_valid() and _run(rule_form, lambda: rules.create_rule(group, **rule_form.cleaned_data)):
                messages.success(request, "Rule added.")
                return redirect(_page(group))
        else:
            enforce(ctx, "compute:security_groups:update", _target(ctx))
            edit_form = SecurityGroupForm(request.POST, prefix="edit")
            if edit_form.is_valid() and _run(edit_form, lambda: groups.update_group(group, **edit_form.cleaned_data)):
                messages.success(request, f"Security group {edit_form.cleaned_data['name']} updated.")
                return redirect(_page(group))
        status = 400
    group_rules = group.rules.select_related("group").order_by("id")
    context = {"group": group, "rules": group_rules, "edit_form": edit_form, "rule_form": rule_form}
    return render(request, "dashboard/secgroups/detail.html", context, status=status)


def _run(form, work) -> bool:
    try:
        work()
    except SecurityGroupError as exc:
        form.add_error(None, error_message(exc))
        return False
    return True


@require_POST
@dashboard_view
def group_delete(request, group_id):
    group = _group(request.ctx, group_id, "compute:security_groups:delete")
    try:
        groups.delete_group(group)
    except SecurityGroupError as exc:
        messages.error(request, f"{group.name}: {error_message(exc)}")
    else:
        messages.success(request, f"Security group {group.name} deleted.")
    return redirect(PAGE)


@require_POST
@dashboard_view
def rule_delete(request, group_id, rule_id):
    ctx = request.ctx
    group = _group(ctx, group_id, "compute:security_group_rules:delete")
    rule = rules.get_rule(rule_id, ctx.project_id)
    if rule.parent_group_id != group.pk:
        raise SecurityGroupNotFound(f"Security group rule {rule_id} not found.")
    try:
        rules.delete_rule(rule)
    except SecurityGroupError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, "Rule deleted.")
    return redirect(_page(group))
