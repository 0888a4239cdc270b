"""Template helpers: Designsystemet form widgets and Norwegian dates."""

from __future__ import annotations

from django import template
from django.forms import CheckboxInput, CheckboxSelectMultiple, RadioSelect

register = template.Library()


@register.simple_tag
def ds_widget(field):
    """Render a bound field's widget with Designsystemet classes and the ARIA links to its help
    text and errors, so a screen reader announces both."""
    widget = field.field.widget
    attrs = {}
    if isinstance(widget, CheckboxInput) or not isinstance(
        widget, (RadioSelect, CheckboxSelectMultiple)
    ):
        attrs["class"] = "ds-input"
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-hjelp")
    if field.errors:
        described.append(f"{field.auto_id}-feil")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
