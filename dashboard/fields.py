"""Form fields shared by the dashboard's forms."""
from django import forms


class NameField(forms.CharField):
    """A name of at most `max_length` characters that is refused, not cut: the input carries no
    `maxlength` attribute (a browser silently truncates pasted text to it), and a longer name
    gets a form error saying how long it is and what the limit is."""

    def __init__(self, *, max_length: int = 255, **kwargs):
        super().__init__(**kwargs)  # no max_length here: it would add the validator and the attribute
        self.name_limit = max_length

    def clean(self, value):
        value = super().clean(value)
        if value and len(value) > self.name_limit:
            raise forms.ValidationError(
                "This name is %(length)d characters long; at most %(limit)d are allowed.",
                code="max_length", params={"length": len(value), "limit": self.name_limit})
        return value
