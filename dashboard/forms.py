"""Dashboard forms: choices come from what the project may use (the same lookups the API makes)."""
from django import forms

from compute.services import flavors as flavor_service
from compute.services import hosts
from compute.services import keypairs as keypair_service
from compute.services import server_groups
from images.services.registry import visible_images
from network.services.networks import visible_networks
from secgroups.services.groups import ensure_default, groups_of_project

from .project_forms import parse_key_values


def flavor_summary(flavor) -> str:
    return f"{flavor.name}: {flavor.vcpus} vCPU, {flavor.memory_mb} MB RAM, {flavor.root_gb} GB disk"


class LaunchForm(forms.Form):
    name = forms.CharField(max_length=255)
    count = forms.IntegerField(min_value=1, max_value=100, initial=1, label="Number of instances")
    flavor = forms.ChoiceField()
    image = forms.ChoiceField()
    key_name = forms.ChoiceField(required=False, label="Key pair")
    network = forms.ChoiceField(required=False)
    security_groups = forms.MultipleChoiceField(required=False, label="Security groups",
                                                widget=forms.SelectMultiple(attrs={"size": 3}))
    availability_zone = forms.ChoiceField(required=False, label="Availability zone")
    server_group = forms.ChoiceField(required=False, label="Server group")
    metadata = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Metadata",
                               help_text="One key=value a line.")
    user_data = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 4}), label="User data",
                                help_text="Plain text (a cloud-config or a script); it is base64-encoded for you.")

    def __init__(self, ctx, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.flavors = list(visible_flavors_for(ctx))
        self.fields["flavor"].choices = [(f.flavorid, flavor_summary(f)) for f in self.flavors]
        images = visible_images(ctx.project_id, ctx.is_admin).filter(status="active").order_by("name")
        self.fields["image"].choices = [(str(i.id), i.name or str(i.id)) for i in images
                                        if (i.disk_format or "") not in ("aki", "ari")]
        self.fields["key_name"].choices = [("", "(none)")] + [
            (k.name, k.name) for k in keypair_service.list_keypairs(ctx.user)]
        self.fields["network"].choices = [("", "(the project's default network)")] + [
            (str(n.uuid), f"{n.label} ({n.cidr})") for n in visible_networks(ctx.project_id, ctx.is_admin)]
        if ctx.project_id:
            ensure_default(ctx.project_id)  # as listing them through the API does
        groups = groups_of_project(ctx.project_id) if ctx.project_id else []
        self.fields["security_groups"].choices = [(g.name, g.name) for g in groups]
        self.fields["availability_zone"].choices = [("", "(any)")] + [
            (zone, zone) for zone, available in hosts.availability_zones() if available]
        self.fields["server_group"].choices = [("", "(none)")] + [
            (str(g.uuid), f"{g.name} ({g.policy})") for g in server_groups.list_groups(ctx)] if ctx.project_id else [
            ("", "(none)")]

    def clean_metadata(self) -> dict:
        return parse_key_values(self.cleaned_data["metadata"])

    def clean_user_data(self) -> str:
        # browsers send textarea lines with CRLF; a "#!/bin/sh\r" shebang would not run in the guest
        return self.cleaned_data["user_data"].replace("\r\n", "\n")

    def flavor_sizes(self) -> list[dict]:
        return [{"id": f.flavorid, "vcpus": f.vcpus, "ram": f.memory_mb} for f in self.flavors]


def visible_flavors_for(ctx):
    return flavor_service.visible_flavors(ctx.project_id, ctx.is_admin).order_by("memory_mb", "vcpus", "name")


class KeypairCreateForm(forms.Form):
    name = forms.CharField(max_length=255, help_text="Letters, digits, spaces, '_' and '-'.")


class KeypairImportForm(forms.Form):
    name = forms.CharField(max_length=255)
    public_key = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Public key",
                                 help_text="One line, e.g. the contents of ~/.ssh/id_ed25519.pub.")
