"""Forms of the project panels (images, volumes, security groups, API access, usage). The
services validate again; these give each field a label and a readable message."""
import datetime

from django import forms
from django.utils import timezone

from images.models import CONTAINER_FORMATS, DISK_FORMATS, Image
from .fields import NameField


def parse_key_values(text: str) -> dict:
    """`key=value` lines into a dict; a line without '=' is a ValidationError naming it."""
    result = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(f"Line {number}: write key=value.")
        result[key.strip()] = value.strip()
    return result


def visibility_choices(may_publicize: bool, current: str | None = None) -> list:
    allowed = [Image.PRIVATE, Image.SHARED, Image.COMMUNITY]
    if may_publicize or current == Image.PUBLIC:
        allowed.insert(0, Image.PUBLIC)
    return [(v, v) for v in allowed]


class ImageUploadForm(forms.Form):
    name = NameField(max_length=255)
    file = forms.FileField(label="Image file")
    disk_format = forms.ChoiceField(choices=[(f, f) for f in DISK_FORMATS], initial="qcow2", label="Disk format")
    container_format = forms.ChoiceField(choices=[(f, f) for f in CONTAINER_FORMATS], initial="bare",
                                         label="Container format")
    visibility = forms.ChoiceField(initial=Image.PRIVATE)
    min_disk = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1, label="Minimum disk (GB)")
    min_ram = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1, label="Minimum RAM (MB)")

    def __init__(self, *args, may_publicize=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visibility"].choices = visibility_choices(may_publicize)


class ImageEditForm(forms.Form):
    name = NameField(max_length=255, required=False)
    visibility = forms.ChoiceField()
    properties = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}),
                                 help_text="One key=value a line; remove a line to remove the property.")

    def __init__(self, *args, may_publicize=False, current_visibility=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visibility"].choices = visibility_choices(may_publicize, current_visibility)
        self.may_publicize, self.current_visibility = may_publicize, current_visibility

    def clean_visibility(self):
        value = self.cleaned_data["visibility"]
        if value == Image.PUBLIC and value != self.current_visibility and not self.may_publicize:
            raise forms.ValidationError("Only administrators may make an image public.")
        return value

    def clean_properties(self) -> dict:
        return parse_key_values(self.cleaned_data["properties"])


class VolumeCreateForm(forms.Form):
    name = NameField(max_length=255, required=False)
    size = forms.IntegerField(min_value=1, max_value=0x7FFFFFFF, label="Size (GB)", required=False,
                              help_text="Leave empty with a snapshot to take the snapshot's size.")
    snapshot = forms.ChoiceField(required=False, label="From snapshot")

    def __init__(self, *args, snapshots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["snapshot"].choices = [("", "(empty volume)")] + [
            (str(s.uuid), f"{s.name or s.uuid} ({s.size} GB)") for s in snapshots]

    def clean(self):
        data = super().clean()
        if not data.get("snapshot") and data.get("size") is None and "size" not in self.errors:
            self.add_error("size", "Give a size, or choose a snapshot.")
        return data


class SecurityGroupForm(forms.Form):
    name = NameField(max_length=255)
    description = forms.CharField(max_length=255, required=False)


class RuleForm(forms.Form):
    ip_protocol = forms.ChoiceField(choices=[("tcp", "TCP"), ("udp", "UDP"), ("icmp", "ICMP")], label="Protocol")
    from_port = forms.IntegerField(min_value=-1, max_value=65535, label="From port (ICMP: type)")
    to_port = forms.IntegerField(min_value=-1, max_value=65535, label="To port (ICMP: code)")
    cidr = forms.CharField(max_length=64, required=False, label="CIDR", initial="0.0.0.0/0")
    group_id = forms.ChoiceField(required=False, label="Or source group")

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group_id"].choices = [("", "(use the CIDR)")] + [(str(g.pk), g.name) for g in groups]


class UsageForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="To (inclusive)")

    MAX_DAYS = 3660

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("The end date is before the start date.")
            if (end - start).days > self.MAX_DAYS:
                raise forms.ValidationError("Choose a range of at most ten years.")
        return data

    def period(self) -> tuple[datetime.datetime, datetime.datetime]:
        tz = datetime.timezone.utc
        start = datetime.datetime.combine(self.cleaned_data["start"], datetime.time.min, tz)
        end = datetime.datetime.combine(self.cleaned_data["end"] + datetime.timedelta(days=1), datetime.time.min, tz)
        return start, min(end, max(start, timezone.now()))
