"""A declarative admin for the organisation structure and people."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Organisation, Person, Unit


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "parent"]
    list_filter = ["organisation"]
    search_fields = ["name"]
    readonly_fields = ["path"]


@admin.register(Person)
class PersonAdmin(UserAdmin):
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
                    "is_elected_official",
                    "is_editor",
                    "sees_whole_organisation",
                    "managed_units",
                ]
            },
        ),
    )
