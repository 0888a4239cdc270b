"""A declarative admin for support staff. Policy text is written in /redaksjon/, not here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import (
    Acknowledgement,
    Event,
    Organisation,
    Person,
    Policy,
    PolicyVersion,
    Resource,
    Unit,
)


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


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["title", "organisation", "visibility", "retired_at"]
    list_filter = ["organisation", "visibility"]
    search_fields = ["title"]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["policy", "number", "status", "change_kind", "effective_from"]
    list_filter = ["status", "change_kind"]

    def has_add_permission(self, request):
        # A version added here would skip the workflow: no number lock, no event, no rendering.
        return False

    def has_change_permission(self, request, obj=None):
        # Versions are written through /redaksjon/; published ones are immutable anyway.
        return False


@admin.register(Acknowledgement)
class AcknowledgementAdmin(admin.ModelAdmin):
    list_display = ["person", "version", "acknowledged_at"]

    def has_add_permission(self, request):
        # A confirmation is evidence that the person confirmed; nobody may create one for them.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "verb", "actor", "policy"]
    list_filter = ["verb", "organisation"]

    def has_add_permission(self, request):
        # The audit trail is written by the verb modules in the same transaction as the change.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["title", "publisher"]
