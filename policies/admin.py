"""A declarative admin for support staff. Policy text is written in /redaksjon/, not here.

Changes made here go through the same write functions as the rest of the site, so they are
validated the same way and recorded in the audit trail.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .authoring import SETTINGS_FIELDS, change_settings, save_resource
from .models import Acknowledgement, Event, Policy, PolicyVersion, Resource


class PolicyAdminForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = [*SETTINGS_FIELDS, "audience_units"]

    def clean_audience_units(self):
        units = self.cleaned_data["audience_units"]
        foreign = [u.name for u in units if u.organisation_id != self.instance.organisation_id]
        if foreign:
            raise forms.ValidationError(
                _("Enheter fra en annen kommune kan ikke velges: %(units)s."),
                code="foreign_unit",
                params={"units": ", ".join(foreign)},
            )
        return units


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyAdminForm
    list_display = ["title", "organisation", "visibility", "retired_at"]
    list_filter = ["organisation", "visibility"]
    search_fields = ["title"]
    readonly_fields = ["organisation", "owner", "retired_at", "created_at"]
    filter_horizontal = ["audience_units"]

    def has_add_permission(self, request):
        # A policy is created in /redaksjon/, with its first draft and its events.
        return False

    def save_model(self, request, obj, form, change):
        # The same write as the editors' settings page: one transaction, SETTINGS_CHANGED recorded
        # with what changed (the audience included); nothing recorded when nothing changed.
        data = form.cleaned_data
        change_settings(
            obj,
            by=request.user,
            audience_units=list(data["audience_units"]),
            **{name: data[name] for name in SETTINGS_FIELDS},
        )

    def save_related(self, request, form, formsets, change):
        # change_settings has already stored the audience; the form must not write it again.
        pass


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

    def has_delete_permission(self, request, obj=None):
        # A published version is evidence (the database refuses to delete it), and a draft is
        # discarded in /redaksjon/, which records the event.
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

    def save_model(self, request, obj, form, change):
        # Rendered and sanitised by the one render function, like when the handbook is loaded.
        save_resource(obj)
