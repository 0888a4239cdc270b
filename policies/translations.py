"""Which language version of a policy text a reader gets, and where each translation stands.

A version's own text is the original; its translations (policies.models.Translation) are linked to
exactly that version. A reader gets the text in the målform they ask for (`?sprak=nn`), or else in
the interface's, when the version has it; otherwise the original. A translation of an earlier
version than the one shown is "behind": the reader gets the original, with a notice and a link to
the older translation. Nothing here writes; the writes are in policies.workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from people.language import language_codes, supported

from .models import Policy, PolicyVersion, Status, Translation, TranslationStatus

# The målform names as they stand inside a sentence ("Les originalen på bokmål").
LANGUAGE_NAMES = {"nb": _("bokmål"), "nn": _("nynorsk")}


def language_name(code: str) -> str:
    """The name of a målform inside a sentence; the code itself for one without a name here."""
    if code in LANGUAGE_NAMES:
        return str(LANGUAGE_NAMES[code])
    return dict(settings.LANGUAGES).get(code, code)


def requested_language(raw: object) -> str | None:
    """The målform a reader asked for with ?sprak=, if the interface has it (else None)."""
    return supported(raw)


def with_translated_languages(versions):
    """Versions annotated with `translated`: the målformer of their published translations, so a
    page knows what it can offer without a query per version."""
    published = Translation.objects.published().filter(version=OuterRef("pk")).order_by("language")
    return versions.annotate(translated=ArraySubquery(published.values("language")))


def _shows_translation(original_language: str, wanted: str, translated) -> bool:
    """The one rule for which text a reader gets: the translation in `wanted` when the version has
    a published one (`translated`: the målformer it has) and `wanted` is not the original's own;
    otherwise the original. The policy page (shown_text) and the lists (shown_title) both ask it."""
    return wanted != original_language and wanted in translated


def _translated(version: PolicyVersion) -> list[str]:
    if hasattr(version, "translated"):
        return list(version.translated or [])
    return list(version.translations.published().values_list("language", flat=True))


@dataclass
class ShownText:
    """The text of a version a page shows, in one målform, and the other forms on offer."""

    version: PolicyVersion
    language: str
    title: str
    body_html: str
    text_hash: str
    # The translation shown; None when the page shows the original.
    translation: Translation | None = None
    # The other målformer of this version a reader can switch to: (code, name) pairs.
    others: list[tuple[str, str]] = field(default_factory=list)
    # The målform asked for (or the interface's).
    wanted: str = ""
    # When this version has no text in `wanted` but an earlier one has: that version's number.
    behind_number: int | None = None

    @property
    def is_translation(self) -> bool:
        return self.translation is not None

    @property
    def original_language(self) -> str:
        return self.version.language

    @property
    def original_name(self) -> str:
        return language_name(self.version.language)

    @property
    def language_label(self) -> str:
        return language_name(self.language)

    @property
    def wanted_name(self) -> str:
        return language_name(self.wanted)

    def sections(self):
        """The headings of the text shown, for its table of contents."""
        source = self.translation.sections if self.translation else self.version.sections
        return list(
            source.filter(level__gte=2).order_by("position").values("anchor", "heading", "level")
        )


def shown_text(
    version: PolicyVersion, *, wanted: str | None, interface: str, versions=None
) -> ShownText:
    """The text of `version` for a reader who asked for `wanted` (or nothing) in `interface`.

    `versions`, the policy's versions annotated by with_translated_languages, saves the queries
    that find what is on offer; only a translation actually shown is read.
    """
    wanted = wanted or interface
    translated = _translated(version)
    available = [version.language, *translated]
    translation = None
    if _shows_translation(version.language, wanted, translated):
        translation = version.translations.published().in_language(wanted).first()
    shown = translation or version
    language = translation.language if translation else version.language
    text = ShownText(
        version=version,
        language=language,
        title=shown.title,
        body_html=shown.body_html,
        text_hash=shown.text_hash,
        translation=translation,
        others=[(code, language_name(code)) for code in available if code != language],
        wanted=wanted,
    )
    if wanted not in available:
        if versions is None:
            versions = with_translated_languages(
                version.policy.versions.filter(number__lt=version.number)
            )
        earlier = sorted(
            (v for v in versions if v.number is not None and v.number < version.number),
            key=lambda v: -v.number,
        )
        text.behind_number = next((v.number for v in earlier if wanted in _translated(v)), None)
    return text


def translated_title(language: str, version: str = "pk") -> Subquery:
    """The title of the published translation in `language` of the version at `version` (a path
    from the rows being read, e.g. "current_version"), or NULL: to annotate a list's rows, so
    that each can be named in the reader's målform in the same query, not one query per row."""
    published = Translation.objects.published().filter(version=OuterRef(version), language=language)
    return Subquery(published.values("title")[:1])


@dataclass(frozen=True)
class ShownTitle:
    """The title a list names a policy by, and the målform it is written in (for its `lang`)."""

    title: str
    language: str


def shown_title(
    *, original: str, original_language: str, translated: str | None, wanted: str
) -> ShownTitle:
    """The title of a version for a reader who wants `wanted`, by the rule of the policy page:
    `translated` is the title of its published translation in `wanted` (translated_title), or
    None when it has none; else the original's title, in the original's målform."""
    if translated is not None and _shows_translation(original_language, wanted, [wanted]):
        return ShownTitle(translated, wanted)
    return ShownTitle(original, original_language)


def policy_title(policy: Policy, language: str) -> ShownTitle:
    """The title a page about `policy` (not its own page) names it by for a reader of
    `language`, as the lists do (shown_title): one query."""
    return title_of_current(policy, current_with_title(policy, language), language)


def current_with_title(policy: Policy, language: str) -> PolicyVersion | None:
    """`policy`'s current version, with the title of its translation into `language` (or None)
    as `translated_title`."""
    return policy.versions.current().annotate(translated_title=translated_title(language)).first()


def title_of_current(policy: Policy, current: PolicyVersion | None, language: str) -> ShownTitle:
    """policy_title, for a caller that has `current` already (from current_with_title)."""
    if current is None:
        return ShownTitle(policy.title, settings.LANGUAGE_CODE)
    return shown_title(
        original=policy.title,
        original_language=current.language,
        translated=current.translated_title,
        wanted=language,
    )


@dataclass(frozen=True)
class TranslationState:
    """Where a policy's text stands in one målform other than the original's, for editors."""

    language: str
    name: str
    # "published", "draft", "behind" or "missing".
    state: str
    translation: Translation | None

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


STATE_LABELS = {
    "published": _("Oppdatert"),
    "draft": _("Utkast"),
    "behind": _("Ikke oppdatert"),
    "missing": _("Mangler"),
}


def translation_states(policy: Policy, current: PolicyVersion | None) -> list[TranslationState]:
    """For each målform but the original's: is the current version translated, in draft, behind
    (only an earlier version is translated) or missing?"""
    return translation_states_of([(policy, current)]).get(policy.pk, [])


def translation_states_of(rows) -> dict[int, list[TranslationState]]:
    """translation_states for many (policy, current version) pairs in one query, for the editors'
    dashboard: {policy id: states}. A policy without a current version has none."""
    rows = [(policy, current) for policy, current in rows if current is not None]
    translations = (
        Translation.objects.filter(version__policy__in=[policy.pk for policy, _c in rows])
        .select_related("version")
        .order_by("-version__number")
    )
    by_policy: dict[int, list[Translation]] = {}
    for translation in translations:
        by_policy.setdefault(translation.version.policy_id, []).append(translation)
    return {policy.pk: _states(current, by_policy.get(policy.pk, [])) for policy, current in rows}


def _states(current: PolicyVersion, translations: list[Translation]) -> list[TranslationState]:
    states = []
    for code in language_codes():
        if code == current.language:
            continue
        own = next(
            (t for t in translations if t.language == code and t.version_id == current.pk), None
        )
        earlier = next(
            (
                t
                for t in translations
                if t.language == code
                and t.status == TranslationStatus.PUBLISHED
                and t.version.number < current.number
            ),
            None,
        )
        if own is not None and own.is_published:
            state = "published"
        elif earlier is not None:
            state = "behind"
        elif own is not None:
            state = "draft"
        else:
            state = "missing"
        states.append(TranslationState(code, language_name(code), state, own or earlier))
    return states


def translatable_version(policy: Policy) -> PolicyVersion | None:
    """The version a translation is written for now: the scheduled one, else the current one."""
    return (
        policy.versions.filter(status__in=[Status.SCHEDULED, Status.PUBLISHED])
        .order_by("-number")
        .first()
    )


def titles_by_language(policies) -> dict[int, dict[str, str]]:
    """For each of `policies`, the title to name it by in each målform of the interface (for
    e-mail): the title of its current version's published translation in that form, else the
    original's. A translation of the current version is never behind, so that title is the one a
    reader of that form will meet on the page. One query for all of them.
    """
    policies = list(policies)
    codes = language_codes()
    titles = {policy.pk: dict.fromkeys(codes, policy.title) for policy in policies}
    rows = Translation.objects.published().filter(
        version__policy__in=[policy.pk for policy in policies],
        version__status=Status.PUBLISHED,
        language__in=codes,
    )
    for policy_id, language, title in rows.values_list("version__policy_id", "language", "title"):
        titles[policy_id][language] = title
    return titles
