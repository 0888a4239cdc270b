"""Forms for the editorial pages: Norwegian labels, help text and error messages throughout."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from markdownx.widgets import MarkdownxWidget

from people.models import RESERVED_SLUGS, Organisation, Unit

from .models import MAX_BODY_LENGTH, MAX_CHANGE_NOTE_LENGTH, ChangeKind, Policy, Visibility
from .plaintext import PlainTextField
from .rendering import budget_problems, render_html
from .uploads import size_from_header

AUDIENCE_ALL = "all"
AUDIENCE_UNITS = "units"
AUDIENCE_CHOICES = [
    (AUDIENCE_ALL, _("Alle ansatte i kommunen")),
    (AUDIENCE_UNITS, _("Bare valgte enheter (med underenheter)")),
]

_TRANSLITERATE = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})

# Markup the sanitiser removes when the text is shown; the editor is told before publishing.
_STRIPPED_MARKUP = re.compile(
    r"<\s*/?\s*(script|style|iframe|object|embed|form|input|svg|math|link|meta|base)\b"
    r"|\bon[a-z]+\s*="
    r"|javascript\s*:",
    re.IGNORECASE,
)


def suggest_slug(title: str) -> str:
    """'Retningslinjer for bruk av sosiale medier' -> 'retningslinjer-for-bruk-av-sosiale-medier'.
    Empty when the title has no letter or digit an address can hold."""
    # slugify keeps underscores, which an address may not have; the page's script makes them hyphens.
    text = title.translate(_TRANSLITERATE).replace("_", " ")
    return slugify(text)[:80].strip("-")


def has_stripped_markup(body: str) -> bool:
    """Does the body contain HTML that will be removed when it is shown (script, event handlers)?"""
    return bool(_STRIPPED_MARKUP.search(body or ""))


class EditorWidget(MarkdownxWidget):
    """markdownx's editor, with the preview rendered on the server too, so the page shows it before
    (and without) JavaScript; markdownx's script then keeps it up to date while typing."""

    template_name = "editorial/_markdownx_widget.html"

    def get_context(self, name, value, attrs=None):
        context = super().get_context(name, value, attrs)
        source = (value or "")[:MAX_BODY_LENGTH]
        context["preview_html"] = mark_safe(render_html(source))  # noqa: S308 - sanitised by nh3
        # markdownx's own drop upload posts only the image: the text's language rides on its
        # address, so that the image's placeholder is written in it (editor_endpoints).
        language = context["widget"]["attrs"].get("lang")
        if language:
            upload = f"{reverse('markdownx_upload')}?{urlencode({'sprak': language})}"
            context["widget"]["attrs"]["data-markdownx-upload-urls-path"] = upload
        return context

    def render(self, name, value, attrs=None, renderer=None):
        # The template lives with the project's templates, which the default form renderer does not see.
        return super().render(name, value, attrs, renderer=TemplatesSetting())


class NorwegianDateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


DATE_ERRORS = {"invalid": _("Skriv en gyldig dato, for eksempel 14.12.2015.")}
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"]
RESERVED_POLICY_SLUGS = {"versjon", "endringer"}
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MISSING_REVISION = _("Skjemaet mangler versjonsinformasjon. Last siden på nytt.")


def title_field() -> forms.CharField:
    """A policy's title, as the settings, reuse and draft forms all ask for it."""
    return PlainTextField(
        label=_("Tittel"),
        max_length=200,
        error_messages={
            "required": _("Skriv en tittel."),
            "max_length": _("Tittelen kan være på høyst 200 tegn."),
        },
    )


def clean_title(form: forms.Form) -> str:
    """The title without surrounding space; only space counts as no title."""
    title = form.cleaned_data["title"].strip()
    if not title:
        raise ValidationError(_("Skriv en tittel."), code="required")
    return title


def revision_field() -> forms.IntegerField:
    """The hidden draft revision the editor started from (optimistic locking)."""
    return forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        max_value=2_147_483_647,
        error_messages=dict.fromkeys(
            ("required", "invalid", "min_value", "max_value"), MISSING_REVISION
        ),
    )


def validate_slug(
    form: forms.Form,
    slug: str,
    *,
    organisation: Organisation,
    policy: Policy | None = None,
    from_title: bool = False,
) -> None:
    """Add an error to the form's slug field when `slug` cannot be the address of a policy in
    `organisation` (other than `policy` itself). `from_title`: the editor left the address empty
    and `slug` was made from the title."""
    if from_title and not SLUG_PATTERN.fullmatch(slug):
        # The editor never touched the field: say that the title gave no address, then ask for one.
        error = ValidationError(
            _(
                "Vi kunne ikke lage en adresse av tittelen, fordi den ikke har bokstaver eller tall "
                "som kan brukes i en lenke. Skriv en adresse med små bokstaver (a–z), tall og "
                "bindestrek."
            ),
            code="no_address_from_title",
        )
    elif not SLUG_PATTERN.fullmatch(slug):
        error = ValidationError(
            _("Adressen kan bare inneholde små bokstaver (a–z), tall og bindestrek."),
            code="invalid",
        )
    elif slug in RESERVED_SLUGS or slug in RESERVED_POLICY_SLUGS:
        error = ValidationError(_("Denne adressen er reservert. Velg en annen."), code="reserved")
    else:
        taken = Policy.objects.filter(organisation=organisation, slug=slug)
        if policy is not None:
            taken = taken.exclude(pk=policy.pk)
        if not taken.exists():
            return
        error = ValidationError(
            _("Adressen «%(slug)s» er allerede i bruk av en annen retningslinje i kommunen.")
            % {"slug": slug},
            code="unique",
        )
    form.add_error("slug", error)


class PolicySettingsForm(forms.Form):
    """A policy's identity and audience: used to create a policy and to change it later."""

    title = title_field()
    slug = forms.CharField(
        label=_("Adresse"),
        max_length=80,
        required=False,
        help_text=_(
            "Blir en del av lenken, for eksempel /bergen/sosiale-medier/. Små bokstaver, tall og "
            "bindestrek. Lages fra tittelen hvis du lar feltet stå tomt."
        ),
        error_messages={"max_length": _("Adressen kan være på høyst 80 tegn.")},
    )
    summary = PlainTextField(
        multiline=True,
        label=_("Kort beskrivelse"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Beskrivelsen kan være på høyst 1000 tegn.")},
    )
    audience = forms.ChoiceField(
        label=_("Hvem gjelder retningslinjen for?"),
        choices=AUDIENCE_CHOICES,
        initial=AUDIENCE_ALL,
        widget=forms.RadioSelect(attrs={"class": "ds-input"}),
        error_messages={"required": _("Velg hvem retningslinjen gjelder for.")},
    )
    audience_units = forms.ModelMultipleChoiceField(
        label=_("Enheter"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "ds-input"}),
        help_text=_("Gjelder når du har valgt «Bare valgte enheter». Underenheter følger med."),
        error_messages={"invalid_choice": _("Velg enheter i din egen kommune.")},
    )
    audience_elected = forms.BooleanField(label=_("Gjelder også folkevalgte"), required=False)
    visibility = forms.ChoiceField(
        label=_("Synlighet"),
        choices=[
            (Visibility.PUBLIC, _("Offentlig – alle kan lese den, også uten å logge inn")),
            (Visibility.INTERNAL, _("Intern – bare for innloggede i kommunen")),
        ],
        initial=Visibility.INTERNAL,
        widget=forms.RadioSelect(attrs={"class": "ds-input"}),
        error_messages={"required": _("Velg synlighet.")},
    )
    review_interval_months = forms.IntegerField(
        label=_("Revisjonsintervall (måneder)"),
        min_value=1,
        max_value=120,
        initial=24,
        help_text=_(
            "Hvor ofte retningslinjen skal gjennomgås. Regnes fra datoen gjeldende versjon trådte i kraft."
        ),
        error_messages={
            "required": _("Skriv hvor mange måneder det skal gå mellom hver revisjon."),
            "invalid": _("Skriv et helt antall måneder."),
            "min_value": _("Revisjonsintervallet må være minst 1 måned."),
            "max_value": _("Revisjonsintervallet kan være høyst 120 måneder."),
        },
    )
    deadline_days = forms.IntegerField(
        label=_("Frist for å bekrefte (dager)"),
        min_value=1,
        max_value=365,
        initial=30,
        help_text=_("Hvor mange dager de ansatte har på å bekrefte en ny versjon."),
        error_messages={
            "required": _("Skriv antall dager."),
            "invalid": _("Skriv et helt antall dager."),
            "min_value": _("Fristen må være minst 1 dag."),
            "max_value": _("Fristen kan være høyst 365 dager."),
        },
    )

    def __init__(self, *args, organisation: Organisation, policy: Policy | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.policy = policy
        self.fields["audience_units"].queryset = Unit.objects.filter(organisation=organisation)
        self.fields["audience_units"].label_from_instance = lambda u: "– " * u.depth + u.name
        if policy is not None and policy.versions.issued().exists():
            self.fields["slug"].help_text = _(
                "Retningslinjen er publisert: endrer du adressen, sendes lenker til den gamle "
                "adressen videre til den nye, så lenge ingen annen retningslinje tar den i bruk."
            )

    @classmethod
    def initial_for(cls, policy: Policy) -> dict:
        return {
            "title": policy.title,
            "slug": policy.slug,
            "summary": policy.summary,
            "audience": AUDIENCE_ALL if policy.audience_all else AUDIENCE_UNITS,
            "audience_units": list(policy.audience_units.all()),
            "audience_elected": policy.audience_elected,
            "visibility": policy.visibility,
            "review_interval_months": policy.review_interval_months,
            "deadline_days": policy.deadline_days,
        }

    clean_title = clean_title

    def clean(self):
        data = super().clean()
        slug = (data.get("slug") or "").strip().lower()
        from_title = not slug and bool(data.get("title"))
        if from_title:
            slug = suggest_slug(data["title"])
        if "title" in data or slug:
            validate_slug(
                self,
                slug,
                organisation=self.organisation,
                policy=self.policy,
                from_title=from_title,
            )
            data["slug"] = slug
        if data.get("audience") == AUDIENCE_UNITS and not data.get("audience_units"):
            self.add_error(
                "audience_units",
                ValidationError(_("Velg minst én enhet, eller velg «Alle ansatte»."), "required"),
            )
        return data

    def settings_values(self) -> dict:
        """The cleaned data as keyword arguments for authoring.create_policy/change_settings."""
        data = self.cleaned_data
        units = list(data["audience_units"]) if data["audience"] == AUDIENCE_UNITS else []
        return {
            "title": data["title"],
            "slug": data["slug"],
            "summary": data["summary"].strip(),
            "visibility": data["visibility"],
            "audience_all": data["audience"] == AUDIENCE_ALL,
            "audience_units": units,
            "audience_elected": data["audience_elected"],
            "review_interval_months": data["review_interval_months"],
            "deadline_days": data["deadline_days"],
        }


class ReuseForm(forms.Form):
    """Title and address of a new policy started from another organisation's text."""

    title = title_field()
    slug = PolicySettingsForm.base_fields["slug"]

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    clean_title = clean_title

    def clean(self):
        data = super().clean()
        slug = (data.get("slug") or "").strip().lower()
        from_title = not slug
        if from_title:
            slug = suggest_slug(data.get("title") or "")
        if data.get("title"):
            validate_slug(self, slug, organisation=self.organisation, from_title=from_title)
        data["slug"] = slug
        return data


class DraftForm(forms.Form):
    """The text of a draft. `revision` is the draft revision the editor started from."""

    title = title_field()
    body = forms.CharField(
        label=_("Tekst"),
        required=False,
        strip=False,
        max_length=MAX_BODY_LENGTH,
        widget=EditorWidget(attrs={"rows": 24, "spellcheck": "true"}),
        help_text=_(
            "Skriv i Markdown: ## Overskrift, - punktliste, **fet**. Forhåndsvisningen viser "
            "teksten slik den blir publisert."
        ),
        error_messages={
            "max_length": _(
                "Teksten er for lang: den kan være på høyst %(limit_value)s tegn "
                "(den har %(show_value)s)."
            )
        },
    )
    revision = revision_field()
    draft = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**63 - 1
    )

    clean_title = clean_title

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        problems = budget_problems(body)
        if problems:
            raise ValidationError(problems, code="budget")
        return body


class PublishForm(forms.Form):
    """How a draft is published: kind of change, note, adoption and effective date."""

    change_kind = forms.ChoiceField(
        label=_("Type endring"),
        choices=[
            (
                ChangeKind.EDITORIAL,
                _(
                    "Redaksjonell – språk, skrivefeil, lenker. Tidligere bekreftelser gjelder fortsatt."
                ),
            ),
            (
                ChangeKind.MATERIAL,
                _("Vesentlig – innholdet er endret. Alle i målgruppen må bekrefte på nytt."),
            ),
        ],
        widget=forms.RadioSelect(attrs={"class": "ds-input"}),
        error_messages={
            "required": _("Velg om endringen er redaksjonell eller vesentlig."),
            "invalid_choice": _("Velg om endringen er redaksjonell eller vesentlig."),
        },
    )
    change_note = PlainTextField(
        multiline=True,
        label=_("Endringsnotat"),
        max_length=MAX_CHANGE_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Hva er endret, og hvorfor? Vises for leserne i versjonshistorikken."),
        error_messages={
            "required": _("Skriv et endringsnotat."),
            "max_length": _("Endringsnotatet kan være på høyst 2000 tegn."),
        },
    )
    adopted_by = PlainTextField(
        label=_("Vedtatt av (valgfritt)"),
        max_length=200,
        required=False,
        help_text=_("For eksempel Arbeidsmiljøutvalget (AMU) eller kommunestyret."),
        error_messages={"max_length": _("Høyst 200 tegn.")},
    )
    adopted_on = forms.DateField(
        label=_("Vedtatt dato (valgfritt)"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=NorwegianDateInput,
        error_messages=DATE_ERRORS,
    )
    effective_from = forms.DateField(
        label=_("Gyldig fra"),
        input_formats=DATE_FORMATS,
        widget=NorwegianDateInput,
        help_text=_(
            "I dag eller senere. En senere dato planlegger publiseringen: versjonen blir "
            "gjeldende den dagen av seg selv."
        ),
        error_messages={**DATE_ERRORS, "required": _("Skriv datoen versjonen skal gjelde fra.")},
    )
    draft = forms.IntegerField(widget=forms.HiddenInput)
    revision = revision_field()

    def __init__(self, *args, first_version: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.first_version = first_version
        self.fields["effective_from"].widget.attrs["min"] = timezone.localdate().isoformat()
        if first_version:
            self.fields["change_kind"].required = False
            self.fields["change_kind"].help_text = _(
                "Første versjon er alltid vesentlig: alle i målgruppen må bekrefte den."
            )
            self.fields["change_kind"].disabled = True
            self.fields["change_kind"].initial = ChangeKind.MATERIAL

    def clean_change_note(self) -> str:
        note = self.cleaned_data["change_note"].strip()
        if not note:
            raise ValidationError(_("Skriv et endringsnotat."), code="required")
        return note

    def clean_effective_from(self):
        day = self.cleaned_data["effective_from"]
        if day < timezone.localdate():
            raise ValidationError(
                _("Datoen kan ikke være tilbake i tid. Velg i dag eller en senere dato."),
                code="past",
            )
        if day.year > timezone.localdate().year + 5:
            raise ValidationError(_("Datoen er mer enn fem år fram i tid."), code="far")
        return day

    def clean_adopted_on(self):
        day = self.cleaned_data["adopted_on"]
        if day is None:
            return day
        if day.year < 1900:
            raise ValidationError(DATE_ERRORS["invalid"], code="invalid")
        if day.year > timezone.localdate().year + 5:
            raise ValidationError(_("Vedtaksdatoen er mer enn fem år fram i tid."), code="far")
        return day

    def clean(self):
        data = super().clean()
        if self.first_version:
            data["change_kind"] = ChangeKind.MATERIAL
        adopted_on, effective_from = data.get("adopted_on"), data.get("effective_from")
        if adopted_on and effective_from and adopted_on > effective_from:
            self.add_error(
                "adopted_on",
                ValidationError(
                    _("Vedtaket må være gjort før datoen versjonen gjelder fra (%(date)s).")
                    % {"date": f"{effective_from:%d.%m.%Y}"},
                    code="after_effective",
                ),
            )
        return data


class LanguageSelect(forms.Select):
    """A select whose options may each be in a målform of their own (`option_languages`, by value),
    such as policy titles in a nynorsk interface."""

    option_languages: dict[str, str] = {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        language = self.option_languages.get(str(value))
        if language:
            option["attrs"]["lang"] = language
        return option


class CompareForm(forms.Form):
    """Two policies to show side by side."""

    venstre = forms.ChoiceField(label=_("Til venstre"), widget=LanguageSelect)
    hoyre = forms.ChoiceField(label=_("Til høyre"), widget=LanguageSelect)

    def __init__(
        self,
        *args,
        choices: list[tuple[str, str]],
        languages: dict[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        for name in ("venstre", "hoyre"):
            self.fields[name].choices = choices
            self.fields[name].widget.option_languages = languages or {}
            self.fields[name].error_messages["invalid_choice"] = _(
                "Velg en retningslinje fra listen."
            )
            self.fields[name].error_messages["required"] = _("Velg en retningslinje.")


_SYNONYM_WORD = re.compile(r"^[^\W_]+(?:[- ][^\W_]+)*$")
MAX_SYNONYM_WORDS = 10


class SynonymForm(forms.Form):
    """One word staff type and the words of the guidelines it stands for."""

    word = forms.CharField(
        label=_("Ord de ansatte skriver"),
        max_length=60,
        help_text=_("Ett ord, for eksempel «SoMe» eller «IT-sikkerhet»."),
        error_messages={
            "required": _("Skriv ordet de ansatte bruker."),
            "max_length": _("Ordet kan ha høyst 60 tegn."),
        },
    )
    words = forms.CharField(
        label=_("Betyr"),
        max_length=500,
        help_text=_(
            "Ordene retningslinjene bruker, skilt med komma, for eksempel "
            "«sosiale medier, Facebook»."
        ),
        error_messages={
            "required": _("Skriv minst ett ord som ordet skal finne."),
            "max_length": _("Listen kan ha høyst 500 tegn."),
        },
    )

    def clean_word(self) -> str:
        word = " ".join(self.cleaned_data["word"].split()).lower()
        if not _SYNONYM_WORD.match(word) or " " in word:
            raise ValidationError(
                _("Skriv ett ord med bokstaver og tall (bindestrek er lov)."), code="invalid"
            )
        return word

    def clean_words(self) -> list[str]:
        words = []
        for raw in self.cleaned_data["words"].split(","):
            item = " ".join(raw.split()).lower()
            if not item:
                continue
            if len(item) > 60:
                raise ValidationError(
                    _("«%(word)s …» er for langt: høyst 60 tegn for hvert ord eller uttrykk.")
                    % {"word": item[:40]},
                    code="max_length",
                )
            if not _SYNONYM_WORD.match(item):
                raise ValidationError(
                    _(
                        "«%(word)s» kan ikke brukes: skriv ord med bokstaver og tall, "
                        "skilt med komma."
                    )
                    % {"word": item},
                    code="invalid",
                )
            if item not in words:
                words.append(item)
        if not words:
            raise ValidationError(_("Skriv minst ett ord som ordet skal finne."), code="required")
        if len(words) > MAX_SYNONYM_WORDS:
            raise ValidationError(
                _("Høyst %(count)s ord eller uttrykk per synonym.") % {"count": MAX_SYNONYM_WORDS},
                code="too_many",
            )
        return words

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("word") and cleaned["word"] in cleaned.get("words", []):
            self.add_error("words", _("Ordet kan ikke være synonym for seg selv."))
        return cleaned


MAX_LOGO_BYTES = 1_000_000
MAX_LOGO_SIDE = 2000


def _logo_too_large(width: int, height: int) -> ValidationError:
    return ValidationError(
        _(
            "Bildet er for stort (%(width)s × %(height)s punkter). Høyst %(limit)s "
            "punkter på den lengste siden."
        )
        % {"width": width, "height": height, "limit": MAX_LOGO_SIDE},
        code="dimensions",
    )


class _LogoField(forms.ImageField):
    """An ImageField that names the size of an image with very many pixels: Pillow will not open
    one (its decompression-bomb check), which ImageField reports as "not an image"."""

    def to_python(self, data):
        try:
            return super().to_python(data)
        except ValidationError:
            size = size_from_header(data) if data else None
            if size is None:
                raise
            raise _logo_too_large(*size) from None


class LookForm(forms.Form):
    """A kommune's own look: accent colour (AA contrast checked), logo, contact, privacy page."""

    accent_color = forms.CharField(
        label=_("Aksentfarge"),
        required=False,
        max_length=20,
        help_text=_(
            "Heksadesimal fargekode, for eksempel #1a5e9a. Brukes på knapper, lenker og "
            "markeringer. Må gi kontrast minst 4,5:1 mot hvit. Tom gir Håndbokas blå."
        ),
    )
    logo = _LogoField(
        label=_("Kommunevåpen eller logo"),
        required=False,
        help_text=_(
            "PNG eller JPEG, høyst 1 MB. Vises i toppen av sidene ved siden av kommunens navn."
        ),
        error_messages={"invalid_image": _("Filen er ikke et bilde. Last opp PNG eller JPEG.")},
    )
    remove_logo = forms.BooleanField(label=_("Fjern kommunevåpenet"), required=False)
    contact = forms.CharField(
        label=_("Kontakt"),
        required=False,
        max_length=200,
        help_text=_("Vises i bunnen av sidene, for eksempel «Servicetorget, Rådhuset»."),
    )
    contact_email = forms.EmailField(
        label=_("E-post"),
        required=False,
        error_messages={
            "invalid": _("Skriv en gyldig e-postadresse, for eksempel post@kommune.no.")
        },
    )
    contact_phone = forms.CharField(label=_("Telefon"), required=False, max_length=30)
    privacy_url = forms.URLField(
        label=_("Lenke til personvernerklæringen"),
        required=False,
        assume_scheme="https",
        help_text=_(
            "Adressen til kommunens personvernerklæring, for eksempel "
            "https://www.kommune.no/personvern."
        ),
        error_messages={"invalid": _("Skriv en hel nettadresse som begynner med https://.")},
    )

    def clean_accent_color(self) -> str:
        from people.branding import accent_problem, normalise

        value = self.cleaned_data["accent_color"].strip()
        if not value:
            return ""
        problem = accent_problem(value)
        if problem:
            raise ValidationError(problem, code="contrast")
        return normalise(value)

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not logo:
            return None
        if logo.size > MAX_LOGO_BYTES:
            raise ValidationError(
                _("Bildet er for stort. Største tillatte størrelse er 1 MB."), code="size"
            )
        image = getattr(logo, "image", None)
        if image is None or image.format not in ("PNG", "JPEG"):
            raise ValidationError(_("Last opp et bilde i PNG- eller JPEG-format."), code="format")
        if max(image.size) > MAX_LOGO_SIDE:
            raise _logo_too_large(*image.size)
        return logo

    def clean_privacy_url(self) -> str:
        value = self.cleaned_data["privacy_url"]
        if value and not value.startswith("https://"):
            raise ValidationError(_("Lenken må begynne med https://."), code="scheme")
        return value


class TranslationForm(forms.Form):
    """A translation of a published version into another målform. `revision` is empty until the
    first save."""

    title = PlainTextField(
        label=_("Tittel"),
        max_length=200,
        error_messages={
            "required": _("Skriv en tittel."),
            "max_length": _("Tittelen kan være på høyst 200 tegn."),
        },
    )
    body = forms.CharField(
        label=_("Tekst"),
        required=False,
        strip=False,
        max_length=MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "true"}),
        help_text=_("Skriv i Markdown, med de samme overskriftene som originalen."),
        error_messages={"max_length": _("Teksten er for lang.")},
    )
    note = PlainTextField(
        label=_("Merknad (valgfri)"),
        required=False,
        max_length=300,
        help_text=_("Vises over teksten, for eksempel hvem som har oversatt den."),
        error_messages={"max_length": _("Merknaden kan være på høyst 300 tegn.")},
    )
    revision = forms.IntegerField(
        widget=forms.HiddenInput,
        required=False,
        min_value=1,
        max_value=2_147_483_647,
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value"), _("Skjemaet er ugyldig. Last siden på nytt.")
        ),
    )

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        # The text is spell-checked and read aloud in its own målform.
        for name in ("title", "body", "note"):
            self.fields[name].widget.attrs["lang"] = language

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise ValidationError(_("Skriv en tittel."), code="required")
        return title

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        problems = budget_problems(body)
        if problems:
            raise ValidationError(problems, code="budget")
        return body
