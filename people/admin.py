"""A declarative admin for the organisation structure and people.

Units are written through people.units (one place that checks a tree change); the forms refuse,
with Norwegian messages, what would mix two kommuner: a parent unit, a person's unit or the units
someone manages in another kommune.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Organisation, Person, Unit
from .units import UnitError, check_parent, save_unit


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "leaver_retention_months"]
    search_fields = ["name"]


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["organisation", "parent", "name"]

    def clean(self):
        cleaned = super().clean()
        organisation, parent = cleaned.get("organisation"), cleaned.get("parent")
        if organisation is not None:
            try:
                check_parent(organisation=organisation, parent=parent, unit=self.instance)
            except UnitError as error:
                raise ValidationError({"parent": str(error)}, code="invalid_parent") from error
            if (
                self.instance.pk is not None
                and organisation.pk != self.instance.organisation_id
                and self.instance.children.exists()
            ):
                raise ValidationError(
                    {
                        "organisation": _(
                            "En enhet med underenheter kan ikke flyttes til en annen kommune."
                        )
                    },
                    code="has_children",
                )
        return cleaned


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    form = UnitForm
    list_display = ["name", "organisation", "parent"]
    list_filter = ["organisation"]
    search_fields = ["name"]
    readonly_fields = ["path"]

    def save_model(self, request, obj, form, change):
        save_unit(obj)


class PersonForm(UserChangeForm):
    def clean(self):
        cleaned = super().clean()
        organisation = cleaned.get("organisation")
        unit = cleaned.get("unit")
        if unit is not None and (organisation is None or unit.organisation_id != organisation.pk):
            self.add_error("unit", _("Enheten må høre til personens kommune."))
        managed = cleaned.get("managed_units") or []
        if any(organisation is None or u.organisation_id != organisation.pk for u in managed):
            self.add_error("managed_units", _("En leder kan bare lede enheter i sin egen kommune."))
        return cleaned


@admin.register(Person)
class PersonAdmin(UserAdmin):
    form = PersonForm
    list_display = ["username", "first_name", "last_name", "organisation", "unit", "is_active"]
    list_filter = ["organisation", "is_active", "is_editor", "is_elected_official"]
    search_fields = ["username", "first_name", "last_name", "email", "employee_number"]
    autocomplete_fields = ["unit", "managed_units"]
    fieldsets = UserAdmin.fieldsets + (
        (
            "Håndboka",
            {
                "fields": [
                    "organisation",
                    "unit",
                    "unit_since",
                    "employee_number",
                    "left_on",
                    "is_elected_official",
                    "is_editor",
                    "sees_whole_organisation",
                    "managed_units",
                ]
            },
        ),
    )
