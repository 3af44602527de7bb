"""Template helpers for accessibility: the menu marks the current page, a field's help text is
tied to its input."""
from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_link(context, href: str, label: str, exact: bool = False):
    """A menu link, `aria-current="page"` when the page is `href` or (unless `exact`) under it."""
    path = context["request"].path
    current = path == href if exact else path.startswith(href)
    if current:
        return format_html('<a href="{}" aria-current="page">{}</a>', href, label)
    return format_html('<a href="{}">{}</a>', href, label)


@register.filter
def described(field):
    """The field's widget with `aria-describedby` naming its help text (`<id>-help`) when it has one."""
    if not field.help_text:
        return field
    return field.as_widget(attrs={"aria-describedby": f"{field.auto_id}-help"})
