"""A declarative admin for support staff. Policy text is written in /redaksjon/, not here."""

from django.contrib import admin

from .models import Acknowledgement, Event, Policy, PolicyVersion, Resource


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
