"""The admin for sign-in settings: the client secret can be set or replaced, never read back."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import SignInConfig, SignInEvent, SignInIdentity


def _form_field(field, **kwargs):
    # An issuer typed without a scheme is https (Django 6's default; said explicitly for 5.2).
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class SignInConfigForm(forms.ModelForm):
    new_client_secret = forms.CharField(
        label=_("ny klienthemmelighet"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Lagres kryptert og vises aldri igjen. La feltet stå tomt for å beholde den "
            "lagrede. Bruk heller «hemmelighet fra miljøvariabel» når det er mulig."
        ),
    )
    remove_client_secret = forms.BooleanField(
        label=_("fjern lagret klienthemmelighet"), required=False
    )

    class Meta:
        model = SignInConfig
        formfield_callback = _form_field
        fields = [
            "organisation",
            "enabled",
            "entra_tenant_id",
            "issuer",
            "client_id",
            "new_client_secret",
            "remove_client_secret",
            "client_secret_env",
            "scopes",
            "match_on",
            "match_claim",
            "editor_groups",
            "manager_groups",
            "support_contact",
            "end_provider_session",
        ]

    def clean_scopes(self):
        scopes = self.cleaned_data["scopes"].split()
        if "openid" not in scopes:
            raise forms.ValidationError(_("Scopes må inneholde «openid»."), code="openid_missing")
        return " ".join(scopes)

    def save(self, commit=True):
        config = super().save(commit=False)
        if self.cleaned_data.get("remove_client_secret"):
            config.set_client_secret("")
        if self.cleaned_data.get("new_client_secret"):
            config.set_client_secret(self.cleaned_data["new_client_secret"])
        if commit:
            config.save()
        return config


@admin.register(SignInConfig)
class SignInConfigAdmin(admin.ModelAdmin):
    form = SignInConfigForm
    # The admin builds the form fields itself; the same https default as the form's own.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["organisation", "enabled", "issuer_url", "client_id", "match_on", "secret_set"]
    list_select_related = ["organisation"]

    @admin.display(boolean=True, description=_("hemmelighet satt"))
    def secret_set(self, config: SignInConfig) -> bool:
        return config.has_secret


@admin.register(SignInIdentity)
class SignInIdentityAdmin(admin.ModelAdmin):
    """Deleting a link lets the person be matched afresh at their next sign-in."""

    list_display = ["person", "organisation", "subject", "first_signed_in_at", "last_signed_in_at"]
    list_select_related = ["person", "organisation"]
    search_fields = ["person__username", "person__email", "subject"]
    readonly_fields = [
        "organisation",
        "person",
        "subject",
        "issuer",
        "first_signed_in_at",
        "last_signed_in_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(SignInEvent)
class SignInEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organisation", "outcome", "person", "ip_address"]
    list_filter = ["outcome", "organisation"]
    list_select_related = ["organisation", "person"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
