"""Each organisation's own sign-in (OpenID Connect), who has signed in with it, and the audit trail.

The protocol itself is Authlib's (signin/client.py); this module holds the data an administrator
changes without a deploy, and the records that sign-in writes.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import client_secrets

ENTRA_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"


class MatchOn(models.TextChoices):
    EMPLOYEE_NUMBER = "employee_number", _("Ansattnummer")
    EMAIL = "email", _("E-post / brukernavn (UPN)")


class SignInConfigQuerySet(models.QuerySet):
    def enabled(self) -> SignInConfigQuerySet:
        return self.filter(enabled=True).select_related("organisation")


class SignInConfig(models.Model):
    """An organisation's identity provider: where it is, who Håndboka is to it, how people match."""

    organisation = models.OneToOneField(
        "people.Organisation",
        on_delete=models.CASCADE,
        related_name="signin_config",
        verbose_name=_("kommune"),
    )
    enabled = models.BooleanField(
        _("i bruk"), default=True, help_text=_("Vis «Logg inn med …» for denne kommunen.")
    )
    entra_tenant_id = models.CharField(
        _("Entra ID-tenant"),
        max_length=100,
        blank=True,
        help_text=_(
            "Kommunens tenant-ID (GUID) i Microsoft Entra ID. Fyll ut denne eller utsteder."
        ),
    )
    issuer = models.URLField(
        _("utsteder (issuer)"),
        blank=True,
        help_text=_(
            "For andre OpenID Connect-leverandører: adressen oppdagelsesdokumentet "
            "(/.well-known/openid-configuration) ligger under. Står tom når Entra-tenant er fylt ut."
        ),
    )
    client_id = models.CharField(_("klient-ID (application id)"), max_length=200)
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    client_secret_env = models.CharField(
        _("hemmelighet fra miljøvariabel"),
        max_length=100,
        blank=True,
        help_text=_(
            "Navnet på en miljøvariabel som holder klienthemmeligheten, i stedet for å lagre "
            "den i databasen (for eksempel HANDBOOK_OIDC_SECRET_BERGEN)."
        ),
    )
    scopes = models.CharField(_("scopes"), max_length=300, default="openid profile email")
    match_on = models.CharField(
        _("finn personen på"),
        max_length=20,
        choices=MatchOn.choices,
        default=MatchOn.EMAIL,
        help_text=_(
            "Hva i HR-importen som skal stemme med påloggingen første gang personen logger inn."
        ),
    )
    match_claim = models.CharField(
        _("claim å sammenligne med"),
        max_length=100,
        default="preferred_username",
        help_text=_(
            "Navnet på claimet i ID-tokenet, for eksempel preferred_username (UPN), email "
            "eller employeeid."
        ),
    )
    editor_groups = models.TextField(
        _("grupper som gir redaktørrolle"),
        blank=True,
        help_text=_(
            "Gruppe-ID-er fra claimet «groups», én per linje. Tom: rollen styres bare i Håndboka."
        ),
    )
    manager_groups = models.TextField(
        _("grupper som gir innsyn i hele kommunen"),
        blank=True,
        help_text=_(
            "Gruppe-ID-er, én per linje (for eksempel HR og kommunaldirektørens stab). Tom: "
            "rollen styres bare i Håndboka."
        ),
    )
    support_contact = models.CharField(
        _("kontakt ved problemer"),
        max_length=300,
        blank=True,
        help_text=_(
            "Vises når noen ikke kommer inn, for eksempel «IT-brukerstøtte, tlf. 55 56 55 56»."
        ),
    )
    end_provider_session = models.BooleanField(
        _("logg også ut hos leverandøren"),
        default=True,
        help_text=_(
            "Avslutter økten hos kommunens pålogging når personen logger ut av Håndboka, "
            "der leverandøren støtter det."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = SignInConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("pålogging for kommune")
        verbose_name_plural = _("pålogging for kommuner")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(entra_tenant_id="", issuer=""),
                name="signin_config_has_issuer",
                violation_error_message="Fyll ut Entra ID-tenant eller utsteder.",
            ),
        ]

    def __str__(self) -> str:
        return f"Pålogging for {self.organisation}"

    @property
    def issuer_url(self) -> str:
        """The issuer the ID token must name, exactly as the discovery document states it."""
        if self.entra_tenant_id:
            return ENTRA_ISSUER.format(tenant=self.entra_tenant_id.strip())
        return self.issuer.rstrip("/")

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer_url}/.well-known/openid-configuration"

    @property
    def has_secret(self) -> bool:
        return bool(self.client_secret_encrypted or self.client_secret_env)

    def set_client_secret(self, secret: str) -> None:
        self.client_secret_encrypted = client_secrets.encrypt(secret) if secret else ""

    def client_secret(self) -> str:
        """The secret in clear, only to send it to the provider's token endpoint."""
        if self.client_secret_env:
            return client_secrets.from_environment(self.client_secret_env)
        return (
            client_secrets.decrypt(self.client_secret_encrypted)
            if self.client_secret_encrypted
            else ""
        )

    @staticmethod
    def _groups(text: str) -> set[str]:
        return {line.strip() for line in text.splitlines() if line.strip()}

    @property
    def editor_group_ids(self) -> set[str]:
        return self._groups(self.editor_groups)

    @property
    def manager_group_ids(self) -> set[str]:
        return self._groups(self.manager_groups)


class SignInIdentity(models.Model):
    """The provider's immutable subject of a person, recorded at their first sign-in.

    From then on the person is found by this subject, never again by e-mail or employee number.
    For Entra ID the subject is tenant id + object id (`tid`/`oid`), which stays the same when the
    person's name, UPN or e-mail changes.
    """

    organisation = models.ForeignKey(
        "people.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("kommune")
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="signin_identities",
        verbose_name=_("person"),
    )
    subject = models.CharField(_("subjekt"), max_length=300)
    issuer = models.CharField(_("utsteder"), max_length=300)
    first_signed_in_at = models.DateTimeField(_("første innlogging"), default=timezone.now)
    last_signed_in_at = models.DateTimeField(_("siste innlogging"), default=timezone.now)

    class Meta:
        verbose_name = _("koblet pålogging")
        verbose_name_plural = _("koblede pålogginger")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "subject"], name="signin_identity_unique_subject"
            ),
            # One person has one identity per organisation: a second subject claiming the same
            # person is refused as ambiguous rather than silently linked.
            models.UniqueConstraint(
                fields=["organisation", "person"], name="signin_identity_unique_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.subject})"


class Outcome(models.TextChoices):
    SIGNED_IN = "signed_in", _("Logget inn")
    LINKED = "linked", _("Logget inn første gang (koblet)")
    ROLES_CHANGED = "roles_changed", _("Roller endret fra grupper")
    UNKNOWN = "unknown", _("Ukjent person")
    INACTIVE = "inactive", _("Deaktivert person")
    AMBIGUOUS = "ambiguous", _("Flere mulige personer")
    MISSING_CLAIM = "missing_claim", _("Mangler claim")
    STATE = "state", _("Utløpt eller gjenbrukt innlogging")
    CANCELLED = "cancelled", _("Avbrutt hos leverandøren")
    INVALID_TOKEN = "invalid_token", _("Ugyldig svar fra leverandøren")
    UNAVAILABLE = "unavailable", _("Leverandøren svarer ikke")
    SIGNED_OUT = "signed_out", _("Logget ut")


class SignInEvent(models.Model):
    """The audit trail of sign-in: every success and every refusal, append-only."""

    organisation = models.ForeignKey(
        "people.Organisation", on_delete=models.PROTECT, null=True, related_name="+"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    subject = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("påloggingshendelse")
        verbose_name_plural = _("påloggingshendelser")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="signin_event_org_idx")
        ]
        triggers = [
            pgtrigger.Protect(name="signin_event_undeletable", operation=pgtrigger.Delete),
            # The one change allowed: forgetting the address, the provider's subject and the
            # details once LOGIN_LOG_DAYS have passed (policies.tasks.clean_up); who signed in,
            # when and with what outcome stay.
            pgtrigger.Protect(
                name="signin_event_append_only",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "NOT (NEW.ip_address IS NULL AND NEW.subject = '' AND NEW.detail = '{}'::jsonb"
                    " AND NEW.id = OLD.id AND NEW.outcome = OLD.outcome"
                    " AND NEW.created_at = OLD.created_at"
                    " AND NEW.person_id IS NOT DISTINCT FROM OLD.person_id"
                    " AND NEW.organisation_id IS NOT DISTINCT FROM OLD.organisation_id)"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.created_at:%Y-%m-%d %H:%M}"
