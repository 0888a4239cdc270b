"""`dato` and `tidspunkt`: the product's one date style in templates (a builtin: no {% load %})."""

from django import template

from ..formats import date_text, datetime_text

register = template.Library()
register.filter("dato", date_text)
register.filter("tidspunkt", datetime_text)
