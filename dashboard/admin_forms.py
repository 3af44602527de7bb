"""Forms of the admin panels. They check shapes (integers, lengths, choices); the services the
API and `./manage.py` use check everything else (duplicates, overlaps, usage) and their errors
are shown as the form's message."""
from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from compute.services.flavors import MAX_INT
from identity.api.common import NAME_MAX_LENGTH
from identity.models import NAME_VALIDATOR, Project, Role, User
from identity.services.quotas import MAX_LIMIT, UNLIMITED


class ListSelect(forms.Select):
    """A <select> rendered in one pass: Django's Select renders a template per option, which
    makes a list of every project or user the slowest part of a page."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join("", '<option value="{}"{}>{}</option>', (
            (option["value"], mark_safe(" selected") if option["selected"] else "", option["label"])
            for _group, group_options, _index in widget["optgroups"] for option in group_options))
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(widget["attrs"]), options)


def choice_of(queryset, **kwargs) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(queryset=queryset, widget=ListSelect, **kwargs)


class FlavorCreateForm(forms.Form):
    name = forms.CharField(max_length=255, strip=False)
    flavorid = forms.CharField(max_length=255, required=False, strip=False, label="ID",
                               help_text="Leave empty for a generated UUID.")
    vcpus = forms.IntegerField(min_value=1, max_value=MAX_INT, label="vCPUs", initial=1)
    memory_mb = forms.IntegerField(min_value=1, max_value=MAX_INT, label="RAM (MB)", initial=512)
    root_gb = forms.IntegerField(min_value=0, max_value=MAX_INT, label="Root disk (GB)", initial=0)
    ephemeral_gb = forms.IntegerField(min_value=0, max_value=MAX_INT, label="Ephemeral disk (GB)", initial=0)
    swap = forms.IntegerField(min_value=0, max_value=MAX_INT, label="Swap (MB)", initial=0)
    is_public = forms.BooleanField(required=False, initial=True, label="Public",
                                   help_text="Unticked: only projects on its access list may use it.")

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["flavorid"] = data["flavorid"] or None
        return data


class FlavorAccessForm(forms.Form):
    project = choice_of(Project.objects.order_by("name"), to_field_name="id")


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH, validators=[NAME_VALIDATOR])
    description = forms.CharField(max_length=4096, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    enabled = forms.BooleanField(required=False, initial=True)


class UserCreateForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH, validators=[NAME_VALIDATOR], label="User name")
    password = forms.CharField(max_length=4096, widget=forms.PasswordInput(render_value=False), strip=False)
    email = forms.EmailField(max_length=254, required=False)
    default_project = choice_of(Project.objects.order_by("name"), required=False,
                                             to_field_name="id", label="Default project")
    role = choice_of(Role.objects.order_by("name"), required=False, to_field_name="name",
                                  label="Role on the default project")
    enabled = forms.BooleanField(required=False, initial=True)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") and not cleaned.get("default_project"):
            self.add_error("role", "Choose a default project to give a role on it.")
        return cleaned


class RoleAssignmentForm(forms.Form):
    user = choice_of(User.objects.order_by("username"), to_field_name="id")
    role = choice_of(Role.objects.order_by("name"), to_field_name="name")


class QuotaLimitsForm(forms.Form):
    """One integer field a resource (-1 = unlimited)."""

    def __init__(self, limits: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for resource, limit in sorted(limits.items()):
            self.fields[resource] = forms.IntegerField(
                min_value=UNLIMITED, max_value=MAX_LIMIT, initial=limit, label=resource.replace("_", " "))

    def changed_limits(self, current: dict) -> dict:
        return {r: v for r, v in self.cleaned_data.items() if v is not None and v != current.get(r)}


class NetworkCreateForm(forms.Form):
    label = forms.CharField(max_length=255)
    cidr = forms.CharField(max_length=64, label="Fixed range (CIDR)", help_text="e.g. 10.20.0.0/24, /16 to /30.")
    bridge = forms.CharField(max_length=15, required=False, help_text="Leave empty for the cloud's default bridge.")
    bridge_interface = forms.CharField(max_length=15, required=False, label="Bridge interface")
    vlan_start = forms.IntegerField(min_value=1, max_value=4094, required=False, label="VLAN",
                                    help_text="VLAN manager only; leave empty for the cloud's first VLAN.")
    dns1 = forms.CharField(max_length=15, required=False, label="DNS 1")
    dns2 = forms.CharField(max_length=15, required=False, label="DNS 2")
    project = choice_of(Project.objects.order_by("name"), required=False,
                                     to_field_name="id", help_text="Leave empty for a network every project shares.")
    host = forms.CharField(max_length=255, required=False, label="Network host")
    multi_host = forms.BooleanField(required=False, label="Multi-host")
    mtu = forms.IntegerField(min_value=576, max_value=9000, required=False, label="MTU")
    dhcp = forms.BooleanField(required=False, initial=True, label="DHCP",
                              help_text="Unticked: a Flat network whose addresses are injected into the guest.")


class FloatingRangeForm(forms.Form):
    ip_range = forms.CharField(max_length=64, label="IP range (CIDR)", help_text="e.g. 203.0.113.0/28, at most /16.")
    pool = forms.CharField(max_length=255, required=False, help_text="Leave empty for the default pool.")
    interface = forms.CharField(max_length=15, required=False, help_text="Leave empty for the host's public interface.")


class UserEditForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH, validators=[NAME_VALIDATOR], label="User name")
    email = forms.EmailField(max_length=254, required=False)
    default_project = choice_of(Project.objects.order_by("name"), required=False,
                                to_field_name="id", label="Default project")
    enabled = forms.BooleanField(required=False, help_text="A disabled user cannot log in; its tokens are revoked.")


class NewPasswordForm(forms.Form):
    """A new password typed twice (an admin's reset, or the second half of a user's own change)."""
    password = forms.CharField(max_length=4096, widget=forms.PasswordInput(render_value=False), strip=False,
                               label="New password")
    confirm = forms.CharField(max_length=4096, widget=forms.PasswordInput(render_value=False), strip=False,
                              label="New password again")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("confirm") is not None and \
                cleaned["password"] != cleaned["confirm"]:
            self.add_error("confirm", "The two passwords differ.")
        return cleaned


class OwnPasswordForm(NewPasswordForm):
    original = forms.CharField(max_length=4096, widget=forms.PasswordInput(render_value=False), strip=False,
                               label="Current password")
    field_order = ["original", "password", "confirm"]


class ProjectEditForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH, validators=[NAME_VALIDATOR])
    description = forms.CharField(max_length=4096, required=False, widget=forms.Textarea(attrs={"rows": 2}))
