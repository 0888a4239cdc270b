"""The domain: organisations, their units and people, policies with immutable published versions,
sections for search, append-only acknowledgements and the audit trail.

Writes live in the verb modules (workflow.py, acknowledgements.py, people.py, ...); this module
holds fields, database constraints and read-only QuerySet methods.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import pgtrigger
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from people.models import Organisation, Person, Unit, interface_languages

from . import textsearch

SEARCH_CONFIG = textsearch.CONFIG
MAX_BODY_LENGTH = 200_000
MAX_CHANGE_NOTE_LENGTH = 2000


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Offentlig")
    INTERNAL = "internal", _("Intern")


# Whose internal policies a person may read: every organisation's (a superuser), their own
# organisation's, or none (visitors, and people without an organisation). Written once; readable_by
# and may_read_internal are both built on it.
EVERY_ORGANISATION = object()


def internal_readers_scope(person):
    """EVERY_ORGANISATION, the id of the one organisation, or None."""
    if not person.is_authenticated:
        return None
    if person.is_superuser:
        return EVERY_ORGANISATION
    return person.organisation_id or None


def may_read_internal(person, organisation_id: int) -> bool:
    """Whether `person` may read this organisation's internal policies (see readable_by)."""
    internal = internal_readers_scope(person)
    return internal is EVERY_ORGANISATION or (internal is not None and internal == organisation_id)


class PolicyQuerySet(models.QuerySet):
    def active(self) -> PolicyQuerySet:
        """Policies in the handbook, i.e. not retired."""
        return self.filter(retired_at__isnull=True)

    def applicable_to(self, person) -> PolicyQuerySet:
        """The policies this person must confirm now: those with a row in Obligation."""
        if not person.is_authenticated:
            return self.none()
        return self.filter(pk__in=Obligation.objects.filter(person=person).values("policy_id"))

    def readable_by(self, person) -> PolicyQuerySet:
        """Public policies, and internal ones of the organisations in internal_readers_scope.

        The one definition of "who may read": access.get_readable_policy, the handbook page and
        search all filter through it.
        """
        internal = internal_readers_scope(person)
        if internal is EVERY_ORGANISATION:
            return self
        condition = Q(visibility=Visibility.PUBLIC)
        if internal is not None:
            condition |= Q(organisation_id=internal)
        return self.filter(condition)


class Policy(models.Model):
    """The stable identity of a guideline; its text lives in its versions."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="policies", verbose_name=_("kommune")
    )
    slug = models.SlugField(_("adresse"), max_length=80)
    title = models.CharField(_("tittel"), max_length=200)
    summary = models.TextField(_("kort beskrivelse"), blank=True, max_length=1000)
    visibility = models.CharField(
        _("synlighet"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    audience_all = models.BooleanField(_("alle ansatte i kommunen"), default=True)
    audience_units = models.ManyToManyField(
        Unit,
        blank=True,
        related_name="policies",
        verbose_name=_("enheter"),
        help_text=_("Gjelder de valgte enhetene med underenheter."),
    )
    audience_elected = models.BooleanField(_("folkevalgte"), default=False)
    review_interval_months = models.PositiveSmallIntegerField(
        _("revisjonsintervall (måneder)"), default=24
    )
    deadline_days = models.PositiveSmallIntegerField(
        _("frist for å bekrefte (dager)"),
        default=30,
        help_text=_("Gis til hver ny versjon når den publiseres."),
    )
    owner = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_policies",
        verbose_name=_("eier"),
    )
    based_on = models.ForeignKey(
        "PolicyVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="derived_policies",
        verbose_name=_("basert på"),
    )
    retired_at = models.DateTimeField(_("trukket tilbake"), null=True, blank=True)
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("opprettet")
    )

    objects = PolicyQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "title"]
        verbose_name = _("retningslinje")
        verbose_name_plural = _("retningslinjer")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="policy_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("policy_detail", args=[self.organisation.slug, self.slug])

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class FormerSlug(models.Model):
    """An address a policy had before an editor changed it (authoring.change_settings).

    Reader addresses are a contract: links in e-mails already sent and bookmarks name the old
    address, so /<org>/<former slug>/… leads to the policy's address now (access.Moved), unless a
    policy has that slug now: a current address always wins. One row per address and kommune; of
    two policies that left the same address, the one that left it last has it.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("kommune")
    )
    slug = models.SlugField(_("adresse"), max_length=80)
    policy = models.ForeignKey(
        Policy,
        on_delete=models.CASCADE,
        related_name="former_slugs",
        verbose_name=_("retningslinje"),
    )
    left_at = models.DateTimeField(_("brukt til"), default=timezone.now)

    class Meta:
        verbose_name = _("tidligere adresse")
        verbose_name_plural = _("tidligere adresser")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="former_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.slug


class Status(models.TextChoices):
    DRAFT = "draft", _("Utkast")
    SCHEDULED = "scheduled", _("Planlagt")
    PUBLISHED = "published", _("Gjeldende")
    SUPERSEDED = "superseded", _("Erstattet")
    # A draft an editor threw away: kept (its events point at it), never shown or published.
    DISCARDED = "discarded", _("Forkastet")


# A version that left draft through publishing: evidence from then on.
ISSUED = ("scheduled", "published", "superseded")


class ChangeKind(models.TextChoices):
    EDITORIAL = "editorial", _("Redaksjonell")
    MATERIAL = "material", _("Vesentlig")


class PolicyVersionQuerySet(models.QuerySet):
    def published(self) -> PolicyVersionQuerySet:
        """Versions that have been in force: the current one and those it replaced."""
        return self.filter(status__in=[Status.PUBLISHED, Status.SUPERSEDED])

    def current(self) -> PolicyVersionQuerySet:
        """The version in force now (at most one per policy)."""
        return self.filter(status=Status.PUBLISHED)

    def drafts(self) -> PolicyVersionQuerySet:
        """Open drafts (at most one per policy)."""
        return self.filter(status=Status.DRAFT)

    def issued(self) -> PolicyVersionQuerySet:
        """Versions that were published or scheduled (numbered), not drafts or discarded ones."""
        return self.filter(status__in=ISSUED)


# Once a version leaves draft, its text and metadata are evidence: people confirmed exactly this.
# Only the status may still move forward (scheduled -> published -> superseded).
_FROZEN_FIELDS = (
    "policy_id",
    "number",
    "title",
    "body",
    "body_html",
    "text_hash",
    "change_kind",
    "change_note",
    "adopted_by",
    "adopted_on",
    "effective_from",
    "deadline_days",
    "language",
    "published_at",
    "published_by_id",
    "created_by_id",
    "created_at",
)
_FROZEN_ROW = ", ".join(f"OLD.{f}" for f in _FROZEN_FIELDS)
_NEW_ROW = ", ".join(f"NEW.{f}" for f in _FROZEN_FIELDS)

# Every ranking list (policies.ranking) gets the sections a statement makes searchable as
# published (or earlier) text, in that statement: {sections} is a query for them. The shared
# lock makes a publication wait for a list being built, and a list wait for a publication:
# either the list's statement sees the new sections or the publication sees the new list.
RANKING_LOCK = 7_413_014


def _rank_new_sections(sections: str) -> str:
    """The trigger function that adds the sections `sections` (a query for their id and
    search_vector) to every ranking list they match."""
    return f"""
    IF EXISTS ({sections}) THEN
        PERFORM pg_advisory_xact_lock_shared({RANKING_LOCK});
        WITH added AS (
            INSERT INTO policies_rankingentry (ranking_list_id, section_id, weight)
            SELECT l.id, t.id,
                   ts_rank_cd('{textsearch.RANK_WEIGHTS}'::float4[], t.search_vector,
                              l.rank_query::tsquery, 0)
              FROM ({sections}) AS t
              JOIN policies_rankinglist l ON t.search_vector @@ l.match_query::tsquery
            ON CONFLICT (ranking_list_id, section_id) DO UPDATE SET weight = EXCLUDED.weight
            RETURNING ranking_list_id
        )
        UPDATE policies_rankinglist l SET size = l.size + a.n
          FROM (SELECT ranking_list_id, count(*) AS n FROM added GROUP BY 1) AS a
         WHERE l.id = a.ranking_list_id;
    END IF;
    RETURN NULL;
    """  # noqa: S608 - constants only.


class PolicyVersion(models.Model):
    """One text of a policy. Drafts have no number; publishing gives the next number and freezes it."""

    policy = models.ForeignKey(
        Policy, on_delete=models.PROTECT, related_name="versions", verbose_name=_("retningslinje")
    )
    number = models.PositiveIntegerField(_("versjon"), null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status")
    )
    title = models.CharField(_("tittel"), max_length=200)
    body = models.TextField(_("tekst (Markdown)"), blank=True, max_length=MAX_BODY_LENGTH)
    body_html = models.TextField(blank=True, editable=False, verbose_name=_("tekst (HTML)"))
    text_hash = models.CharField(
        max_length=64, blank=True, editable=False, verbose_name=_("kontrollsum av teksten")
    )
    change_kind = models.CharField(
        _("type endring"), max_length=10, choices=ChangeKind.choices, blank=True
    )
    change_note = models.TextField(
        _("endringsnotat"), blank=True, max_length=MAX_CHANGE_NOTE_LENGTH
    )
    adopted_by = models.CharField(_("vedtatt av"), max_length=200, blank=True)
    adopted_on = models.DateField(_("vedtatt dato"), null=True, blank=True)
    effective_from = models.DateField(_("gyldig fra"), null=True, blank=True)
    deadline_days = models.PositiveSmallIntegerField(
        _("frist for å bekrefte (dager)"),
        default=30,
        help_text=_("Antall dager etter at bekreftelse blir påkrevd for en person."),
    )
    # The målform the text is written in: the original. Translations into the others are
    # Translation rows linked to this exact version.
    language = models.CharField(
        _("målform"), max_length=10, choices=interface_languages, default="nb"
    )
    published_at = models.DateTimeField(_("publisert"), null=True, blank=True)
    published_by = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("publisert av"),
    )
    based_on = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Versjonen utkastet ble startet fra."),
        verbose_name=_("basert på"),
    )
    created_by = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opprettet av"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("opprettet"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("sist lagret"))
    updated_by = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sist lagret av"),
    )
    # Optimistic locking for drafts: every save must name the revision it was based on.
    revision = models.PositiveIntegerField(default=1, verbose_name=_("revisjon"))

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["policy", "-number"]
        verbose_name = _("versjon")
        verbose_name_plural = _("versjoner")
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="version_unique_number"),
            models.UniqueConstraint(
                fields=["policy"], condition=Q(status="published"), name="version_one_current"
            ),
            models.UniqueConstraint(
                fields=["policy"], condition=Q(status="draft"), name="version_one_draft"
            ),
            models.UniqueConstraint(
                fields=["policy"], condition=Q(status="scheduled"), name="version_one_scheduled"
            ),
            models.CheckConstraint(
                condition=(Q(status__in=["draft", "discarded"]) & Q(number__isnull=True))
                | (
                    Q(status__in=ISSUED)
                    & Q(number__gte=1)
                    & Q(published_at__isnull=False)
                    & Q(effective_from__isnull=False)
                    & Q(change_kind__in=["editorial", "material"])
                    & ~Q(text_hash="")
                ),
                name="version_published_is_complete",
            ),
            models.CheckConstraint(
                condition=~Q(number=1) | Q(change_kind="material"),
                name="version_first_is_material",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="version_frozen_after_publish",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "OLD.status <> 'draft' AND ("
                    f"({_FROZEN_ROW}) IS DISTINCT FROM ({_NEW_ROW}) "
                    "OR NEW.status = 'draft' "
                    "OR (NEW.status = 'scheduled' AND OLD.status <> 'scheduled') "
                    "OR (OLD.status = 'superseded' AND NEW.status <> 'superseded'))"
                ),
                func=(
                    "RAISE EXCEPTION 'A published policy version cannot be changed "
                    "(policy %, version %)', OLD.policy_id, OLD.number "
                    "USING ERRCODE = 'integrity_constraint_violation'; RETURN NULL;"
                ),
            ),
            # A version published brings its sections to the ranking lists.
            pgtrigger.Trigger(
                name="version_publish_ranks_sections",
                when=pgtrigger.After,
                operation=pgtrigger.Update,
                level=pgtrigger.Statement,
                referencing=pgtrigger.Referencing(old="old_versions", new="new_versions"),
                func=_rank_new_sections(
                    "SELECT s.id, s.search_vector FROM policies_section s "
                    "JOIN new_versions n ON n.id = s.version_id "
                    "JOIN old_versions o ON o.id = n.id "
                    "WHERE n.status IN ('published', 'superseded') "
                    "AND o.status NOT IN ('published', 'superseded')"
                ),
            ),
            pgtrigger.Protect(
                name="version_published_undeletable",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Q(old__status__in=["scheduled", "published", "superseded"]),
            ),
        ]

    def __str__(self) -> str:
        if self.number is None:
            return f"{self.title} (utkast)"
        return f"{self.title}, versjon {self.number}"

    def get_absolute_url(self) -> str:
        policy = self.policy
        return reverse("version_detail", args=[policy.organisation.slug, policy.slug, self.number])

    @property
    def is_current(self) -> bool:
        return self.status == Status.PUBLISHED


# The vocabulary is one table for every kommune. Two publishes inserting some of the same new
# words in different orders (or in several statements of one transaction) would each wait for a
# word the other has inserted and not committed: a deadlock. Writers of new words therefore take
# one transaction-scoped advisory lock first (and only when there are new words, so a publish of
# known words takes no lock), which makes them queue instead.
VOCABULARY_LOCK = 7_413_013
_FEED_SEARCH_TERMS = f"""
    SELECT array_agg(DISTINCT t.lexeme ORDER BY t.lexeme) INTO new_words
      FROM new_sections s,
           unnest(to_tsvector('simple', s.title || ' ' || s.heading || ' ' || s.text)) t
     WHERE length(t.lexeme) BETWEEN 3 AND 40 AND t.lexeme !~ '[0-9_]'
       AND NOT EXISTS (SELECT 1 FROM policies_searchterm w WHERE w.word = t.lexeme);
    IF new_words IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock({VOCABULARY_LOCK});
        INSERT INTO policies_searchterm (word)
        SELECT w FROM unnest(new_words) AS w ORDER BY w
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
"""  # noqa: S608 - an integer constant, no input.


def _feeds_search_terms(name: str) -> pgtrigger.Trigger:
    """The trigger that adds every word of newly inserted sections to the search vocabulary in the
    same statement, so "Mente du ...?" never needs a refresh job (see SearchTerm)."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.After,
        operation=pgtrigger.Insert,
        level=pgtrigger.Statement,
        referencing=pgtrigger.Referencing(new="new_sections"),
        func=_FEED_SEARCH_TERMS,
        declare=[("new_words", "text[]")],
    )


def _ranks_new_sections(name: str, operation) -> pgtrigger.Trigger:
    """The trigger on Section that brings sections a statement writes into a published (or
    earlier) version to the ranking lists."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.After,
        operation=operation,
        level=pgtrigger.Statement,
        referencing=pgtrigger.Referencing(new="new_sections"),
        func=_rank_new_sections(
            "SELECT s.id, s.search_vector FROM new_sections s "
            "JOIN policies_policyversion v ON v.id = s.version_id "
            "WHERE v.status IN ('published', 'superseded')"
        ),
    )


def _section_fields(rendered, *, title: str) -> dict:
    """The fields a section row takes from one of rendering.render()'s sections."""
    return {
        "position": rendered.position,
        "anchor": rendered.anchor,
        "level": rendered.level,
        "heading": rendered.heading[:500],
        "text": rendered.text,
        "title": title,
    }


def _search_vector(*, title: str = "title", heading: str = "heading", text: str = "text"):
    return (
        SearchVector(title, weight="A", config=SEARCH_CONFIG)
        + SearchVector(heading, weight="B", config=SEARCH_CONFIG)
        + SearchVector(text, weight="C", config=SEARCH_CONFIG)
    )


class SectionText(models.Model):
    """One heading of a rendered text with its text and stored search vector: what a section of a
    policy version, of a translation and of a resource have in common. `owner_field` names the
    subclass's foreign key to the text it belongs to."""

    owner_field: str

    position = models.PositiveSmallIntegerField()
    anchor = models.CharField(max_length=120)
    level = models.PositiveSmallIntegerField()
    heading = models.CharField(max_length=500)
    text = models.TextField(blank=True)
    # A copy of the owner's title, so the stored search vector can weigh it highest.
    title = models.CharField(max_length=200)
    search_vector = models.GeneratedField(
        expression=_search_vector(), output_field=SearchVectorField(), db_persist=True
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.heading

    @classmethod
    def build(cls, owner, rendered_sections) -> list:
        """Unsaved sections of `owner` from rendering.render()'s sections, for bulk_create."""
        return [
            cls(**{cls.owner_field: owner}, **_section_fields(s, title=owner.title))
            for s in rendered_sections
        ]


class Section(SectionText):
    """A heading of a published version with its text: the unit of search and of the contents."""

    owner_field = "version"
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="sections")
    # The heading alone, with its own index: when a word is in thousands of sections, the
    # sections it heads are sure to be among the candidates ranked (policies.search). The title
    # is left out: it would make every section of a policy a heading hit.
    heading_vector = models.GeneratedField(
        expression=SearchVector("heading", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="section_unique_position"),
            models.UniqueConstraint(fields=["version", "anchor"], name="section_unique_anchor"),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="section_search_idx"),
            GinIndex(fields=["heading_vector"], name="section_heading_search_idx"),
        ]
        triggers = [
            # Every word a section brings is added to the search vocabulary in the same statement,
            # so "Mente du ...?" never needs a refresh job (see SearchTerm).
            _feeds_search_terms("section_feeds_search_terms"),
            _ranks_new_sections("section_insert_ranks_sections", pgtrigger.Insert),
            _ranks_new_sections("section_update_ranks_sections", pgtrigger.Update),
        ]


class TranslationStatus(models.TextChoices):
    DRAFT = "draft", _("Utkast")
    PUBLISHED = "published", _("Publisert")


class TranslationQuerySet(models.QuerySet):
    def published(self) -> TranslationQuerySet:
        return self.filter(status=TranslationStatus.PUBLISHED)

    def drafts(self) -> TranslationQuerySet:
        return self.filter(status=TranslationStatus.DRAFT)

    def in_language(self, language: str) -> TranslationQuerySet:
        return self.filter(language=language)


class Translation(models.Model):
    """The text of one published version in another målform, linked to exactly that version.

    The version's own text is the original. A translation is written as a draft and, once
    published, is evidence like the version itself (people confirm the version by reading it):
    the database refuses any change or deletion. A translation of a version that is no longer
    current is "behind"; that is computed from the version's status, never stored.
    """

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="translations"
    )
    language = models.CharField(_("målform"), max_length=10, choices=interface_languages)
    status = models.CharField(
        max_length=12, choices=TranslationStatus.choices, default=TranslationStatus.DRAFT
    )
    title = models.CharField(_("tittel"), max_length=200)
    body = models.TextField(_("tekst (Markdown)"), blank=True, max_length=MAX_BODY_LENGTH)
    body_html = models.TextField(blank=True, editable=False)
    text_hash = models.CharField(max_length=64, blank=True, editable=False)
    note = models.CharField(
        _("merknad"),
        max_length=300,
        blank=True,
        help_text=_("Vises over teksten, for eksempel hvem som har oversatt den."),
    )
    created_by = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("publisert"), null=True, blank=True)
    # Optimistic locking, as for drafts of versions.
    revision = models.PositiveIntegerField(default=1)

    objects = TranslationQuerySet.as_manager()

    class Meta:
        ordering = ["version", "language"]
        verbose_name = _("oversettelse")
        verbose_name_plural = _("oversettelser")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "language"], name="translation_one_per_language"
            ),
            models.CheckConstraint(
                condition=(Q(status="draft") & Q(published_at__isnull=True))
                | (Q(status="published") & Q(published_at__isnull=False) & ~Q(text_hash="")),
                name="translation_published_is_complete",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="translation_frozen_after_publish",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__status="published"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"

    @property
    def is_published(self) -> bool:
        return self.status == TranslationStatus.PUBLISHED


class TranslationSection(SectionText):
    """A heading of a published translation with its text, searched beside the sections.

    Indexed with the same text-search configuration as the originals (see policies.textsearch):
    a query is parsed once, so the text it is compared with must be stemmed the same way.
    """

    owner_field = "translation"
    translation = models.ForeignKey(Translation, on_delete=models.CASCADE, related_name="sections")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["translation", "position"], name="translationsection_unique_position"
            ),
            models.UniqueConstraint(
                fields=["translation", "anchor"], name="translationsection_unique_anchor"
            ),
        ]
        indexes = [GinIndex(fields=["search_vector"], name="translationsection_search_idx")]
        triggers = [_feeds_search_terms("translationsection_feeds_search_terms")]


class RankingList(models.Model):
    """The sections of published (and earlier) versions that match one search term, with their
    weights: what policies.ranking reads, best first, to rank across every kommune without
    ranking every match.

    Built the first time the term is searched; from then on triggers on PolicyVersion and
    Section add the sections of every publication, in its transaction.
    """

    # The term as policies.ranking.Term names it.
    query = models.TextField(unique=True)
    # Which sections it has (tsquery text), and what each one's weight is the ts_rank_cd of.
    match_query = models.TextField()
    rank_query = models.TextField()
    built = models.DateTimeField(auto_now_add=True, db_index=True)
    # How many entries it has.
    size = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.query


class RankingEntry(models.Model):
    """One section of a RankingList with its weight: at least what its term adds to the
    section's rank (policies.ranking)."""

    pk = models.CompositePrimaryKey("ranking_list", "section_id")
    # The primary key's index serves the foreign key too.
    ranking_list = models.ForeignKey(
        RankingList, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    # Not a foreign key: a section that is gone is simply not found when it is scored.
    section_id = models.BigIntegerField()
    weight = models.FloatField()

    class Meta:
        indexes = [
            models.Index(
                fields=["ranking_list", "-weight", "section_id"], name="rankingentry_best_first"
            )
        ]

    def __str__(self) -> str:
        return f"{self.section_id}: {self.weight}"


class SearchTerm(models.Model):
    """A word that occurs in some section: the vocabulary for typo and compound suggestions.

    Filled by a trigger on Section; a trigram index makes the nearest words one index scan, which a
    trigram scan of the sections themselves is not at national scale.
    """

    word = models.CharField(max_length=40, primary_key=True)

    class Meta:
        indexes = [
            GinIndex(fields=["word"], name="searchterm_word_trgm", opclasses=["gin_trgm_ops"])
        ]

    def __str__(self) -> str:
        return self.word


class AcknowledgementQuerySet(models.QuerySet):
    def of(self, person) -> AcknowledgementQuerySet:
        return self.filter(person=person)


class Acknowledgement(models.Model):
    """Evidence that a person confirmed an exact version: append-only in the database."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="acknowledgements", verbose_name=_("person")
    )
    version = models.ForeignKey(
        PolicyVersion,
        on_delete=models.PROTECT,
        related_name="acknowledgements",
        verbose_name=_("versjon"),
    )
    acknowledged_at = models.DateTimeField(default=timezone.now, verbose_name=_("bekreftet"))
    text_hash = models.CharField(
        max_length=64,
        help_text=_("SHA-256 av teksten slik den ble vist da personen bekreftet."),
        verbose_name=_("kontrollsum av teksten"),
    )
    # The målform of the text the person read: the version's own (the original) or one of its
    # published translations. Either way the confirmation counts for the version.
    language = models.CharField(
        _("målform"), max_length=10, choices=interface_languages, default="nb"
    )

    objects = AcknowledgementQuerySet.as_manager()

    class Meta:
        ordering = ["-acknowledged_at"]
        verbose_name = _("bekreftelse")
        verbose_name_plural = _("bekreftelser")
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="ack_once_per_version"),
        ]
        # The manager dashboards read "who acknowledged these versions" as an index-only scan.
        indexes = [models.Index(fields=["version", "person"], name="ack_version_person_idx")]
        triggers = [
            pgtrigger.Protect(
                name="ack_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} – {self.version}"

    @property
    def reference(self) -> str:
        """The receipt's reference, e.g. "B-1234-7F3A9C": the row's number and a check of what it
        records, so that a mistyped or invented reference finds nothing (see receipts.find)."""
        return f"B-{self.pk}-{receipt_check(self)}"


def receipt_check(ack: Acknowledgement) -> str:
    """Six hex digits derived from what the confirmation records (all of it immutable)."""
    recorded = f"{ack.pk}:{ack.person_id}:{ack.version_id}:{ack.acknowledged_at.isoformat()}"
    return hashlib.sha256(recorded.encode()).hexdigest()[:6].upper()


class EventVerb(models.TextChoices):
    DRAFT_CREATED = "draft_created", _("Utkast opprettet")
    DRAFT_SAVED = "draft_saved", _("Utkast lagret")
    DRAFT_DISCARDED = "draft_discarded", _("Utkast forkastet")
    PUBLISHED = "published", _("Publisert")
    SCHEDULED = "scheduled", _("Planlagt publisert")
    ACTIVATED = "activated", _("Trådte i kraft")
    RETIRED = "retired", _("Trukket tilbake")
    RESTORED = "restored", _("Gjenopprettet")
    SETTINGS_CHANGED = "settings_changed", _("Innstillinger endret")
    POLICY_CREATED = "policy_created", _("Retningslinje opprettet")
    EXPORTED = "exported", _("Eksportert")
    REMINDED = "reminded", _("Påminnelse sendt")
    DIGEST_SENT = "digest_sent", _("Ukesoversikt sendt")
    IMPORTED = "imported", _("Importert")
    SYNONYM_SAVED = "synonym_saved", _("Synonym lagret")
    SYNONYM_DELETED = "synonym_deleted", _("Synonym slettet")
    PSEUDONYMISED = "pseudonymised", _("Pseudonymisert")
    TRANSLATION_SAVED = "translation_saved", _("Oversettelse lagret")
    TRANSLATION_PUBLISHED = "translated", _("Oversettelse publisert")
    OFFBOARDED = "offboarded", _("Kommune fjernet")


class Event(models.Model):
    """The audit trail, written in the same transaction as the change it records. Append-only."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisasjon"),
    )
    actor = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("utført av"),
    )
    verb = models.CharField(max_length=20, choices=EventVerb.choices, verbose_name=_("hendelse"))
    policy = models.ForeignKey(
        Policy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("retningslinje"),
    )
    version = models.ForeignKey(
        PolicyVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("versjon"),
    )
    detail = models.JSONField(default=dict, blank=True, verbose_name=_("detaljer"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("tidspunkt"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("hendelse")
        verbose_name_plural = _("hendelser")
        indexes = [models.Index(fields=["policy", "-created_at"], name="event_policy_idx")]
        triggers = [
            pgtrigger.Protect(
                name="event_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_verb_display()} {self.created_at:%d.%m.%Y %H:%M}"


class ReminderQuerySet(models.QuerySet):
    def throttling(self, since) -> ReminderQuerySet:
        """Reminders that hold back another one: asked for since `since` and sent or still on
        their way. A failed one does not count, so the manager can try again at once."""
        return self.filter(sent_at__gte=since).exclude(email__status="feilet")


class Reminder(models.Model):
    """A manager's reminder to one person about one policy, and the outbox e-mail that carries it.

    `sent_at` is when the manager asked; whether it reached the mail server is `email.status`.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="reminders")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="reminders")
    sent_by = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    email = models.OneToOneField(
        "outbox.Email", on_delete=models.PROTECT, null=True, blank=True, related_name="reminder"
    )

    objects = ReminderQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["person", "policy", "-sent_at"], name="reminder_recent_idx")
        ]

    def __str__(self) -> str:
        return f"Påminnelse til {self.person_id} om {self.policy_id}"


class ReminderRun(models.Model):
    """A manager's request to remind everyone in a scope about a policy, before the worker has
    expanded it into one Reminder and one outbox e-mail per person (policies.reminders).

    Writing this one row (and its job) is all the manager's request does, so a reminder to 20 000
    people answers at once. While `expanded_at` is empty the people it covers count as reminded
    (the throttle) and are shown as "Venter"; the worker expands it exactly once (row lock and
    `expanded_at`, in the transaction that writes the e-mails).
    """

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="reminder_runs")
    unit = models.ForeignKey(
        "people.Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_by = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The manager's scope (dashboards.Scope): the organisation and its unit paths, or none for
    # the whole organisation.
    organisation_id_of_scope = models.BigIntegerField()
    unit_paths = models.JSONField(null=True, blank=True)
    asked_at = models.DateTimeField(default=timezone.now)
    planned = models.PositiveIntegerField(default=0)
    expanded_at = models.DateTimeField(null=True, blank=True)
    queued = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["policy"], name="reminderrun_pending_idx", condition=Q(expanded_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"Påminnelse om {self.policy_id} ({self.planned})"


class ChangeNotice(models.Model):
    """The notice of a material change sent to one person, and the outbox e-mail that carries it
    (policies/notices.py); unique per person and version, so a version notifies nobody twice."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="notices")
    created_at = models.DateTimeField(default=timezone.now)
    email = models.OneToOneField(
        "outbox.Email", on_delete=models.PROTECT, null=True, blank=True, related_name="notice"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "person"], name="notice_once_per_version"),
        ]

    def __str__(self) -> str:
        return f"Varsel om {self.version_id} til {self.person_id}"


class DigestDelivery(models.Model):
    """A weekly digest sent to a person; unique per ISO week so a re-run sends nothing twice."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Til ansatt")
        MANAGER = "manager", _("Til leder")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    week = models.DateField(help_text=_("Mandagen i uken oversikten gjelder."))
    kind = models.CharField(max_length=10, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)
    email = models.OneToOneField(
        "outbox.Email", on_delete=models.PROTECT, null=True, blank=True, related_name="digest"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "week", "kind"], name="digest_once_a_week"),
        ]

    def __str__(self) -> str:
        return f"Ukesoversikt {self.week} til {self.person_id}"


class Resource(models.Model):
    """Background reading (not a policy, nothing to confirm), e.g. Difi's national guidance."""

    slug = models.SlugField(_("adresse"), max_length=80, unique=True)
    title = models.CharField(_("tittel"), max_length=200)
    # Empty when the source does not say who published it: the page then says so in the
    # reader's målform (a stored sentence would stay in bokmål).
    publisher = models.CharField(
        _("utgiver"),
        max_length=200,
        blank=True,
        help_text=_("La feltet stå tomt når kilden ikke oppgir utgiver."),
    )
    published = models.CharField(_("publisert"), max_length=100, blank=True)
    summary = models.TextField(_("kort beskrivelse"), blank=True)
    source_note = models.TextField(_("kilde"), blank=True)
    body = models.TextField(_("tekst (Markdown)"))
    body_html = models.TextField(editable=False, verbose_name=_("tekst (HTML)"))

    class Meta:
        ordering = ["title"]
        verbose_name = _("bakgrunnsressurs")
        verbose_name_plural = _("bakgrunnsressurser")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("resource_detail", args=[self.slug])


class ResourceSection(SectionText):
    """A heading of a background resource with its text, searched beside the policies' sections."""

    owner_field = "resource"
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="sections")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "position"], name="resourcesection_unique_position"
            ),
        ]
        indexes = [GinIndex(fields=["search_vector"], name="resourcesection_search_idx")]
        triggers = [
            # Resources are public: their words may be suggested as much as a public policy's.
            _feeds_search_terms("resourcesection_feeds_search_terms"),
        ]


class Synonym(models.Model):
    """Words staff type for what the guidelines call otherwise: "SoMe" ⇒ "sosiale medier".

    Applied when searching (policies.search): a query word that is `word` also finds each of
    `words`. Rows without an organisation are the national defaults (fixtures/synonyms.toml);
    an organisation's own rows are kept by its editors and add to them.
    """

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="synonyms",
        verbose_name=_("kommune"),
    )
    word = models.CharField(
        _("ord"), max_length=60, help_text=_("Ordet de ansatte skriver, for eksempel «SoMe».")
    )
    words = models.CharField(
        _("betyr"),
        max_length=500,
        help_text=_(
            "Ordene retningslinjene bruker, skilt med komma, for eksempel "
            "«sosiale medier, Facebook»."
        ),
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["word"]
        verbose_name = _("synonym")
        verbose_name_plural = _("synonymer")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "word"],
                name="synonym_unique_word",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=Q(word=Lower("word")), name="synonym_word_lower"),
        ]

    def __str__(self) -> str:
        return f"{self.word} ⇒ {self.words}"

    @property
    def word_list(self) -> list[str]:
        return [w.strip() for w in self.words.split(",") if w.strip()]


# --- Who must confirm which version by when -------------------------------------------------------
#
# The rule is defined once, in SQL, as the views created by migration
# policies/0002_obligation (read that file for the exact definition):
#
#   policies_requirement  one row per policy in force: its current version and the version one must
#                         have confirmed (the latest material one), with its deadline;
#   policies_audience     one row per (policy, unit or 0, elected or not) class of people it is for:
#                         everyone who is not an elected official when the whole kommune is named,
#                         the chosen units with their sub-units, the elected officials when named;
#   policies_obligation   one row per (active person, policy) they must confirm, with the date it
#                         became required for them, the due date, and their newest confirmation.
#
# Everything else reads these: the person side (compliance.py), the overview and person lists
# (dashboards.py), the reminders, the exports and the digest. Two tables are kept by triggers on
# acknowledgements, people, units and policies in the same transaction as the change:
# LatestAcknowledgement (the newest confirmation per person and policy) and ComplianceSummary (the
# rows of policies_obligation counted per unit and policy), so the overview of 20 000 people
# reads a few tens of thousands of small rows and never one row per person.


class State:
    CONFIRMED = "confirmed"
    UNCONFIRMED = "unconfirmed"
    RECONFIRM = "reconfirm"


STATE_LABELS = {
    State.CONFIRMED: _("Bekreftet"),
    State.UNCONFIRMED: _("Ikke bekreftet"),
    State.RECONFIRM: _("Må bekreftes på nytt"),
}


class Confirmation(models.IntegerChoices):
    """Where a person stands with a policy (Obligation.status)."""

    NEVER = 0, _("Ikke bekreftet")
    OLDER = 1, _("Må bekreftes på nytt")
    CONFIRMED = 2, _("Bekreftet")


class LatestAcknowledgement(models.Model):
    """The newest confirmation of each person for each policy. Kept by a trigger; never written."""

    person = models.ForeignKey(Person, on_delete=models.DO_NOTHING, related_name="+")
    policy = models.ForeignKey(Policy, on_delete=models.DO_NOTHING, related_name="+")
    acknowledgement = models.OneToOneField(
        Acknowledgement, on_delete=models.DO_NOTHING, related_name="+"
    )
    number = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # The number rides along so that "which of these people confirmed what" (the
            # overview's people who joined recently) is read from the index alone.
            models.UniqueConstraint(
                fields=["person", "policy"], include=["number"], name="latest_ack_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.policy_id} v{self.number}"


class ComplianceSummary(models.Model):
    """The overview's cache: how many people of one unit must confirm a policy, and how many have.

    One row per (organisation, policy, unit or 0, due), summing the rows of policies_obligation
    (the rule) for the active people of that unit. `due` is kept only where it can still matter:
    it is NULL for people who have confirmed and for those whose due date had already passed when
    they were counted, so that a unit's row for a policy is usually one row, and only the people
    who may still be "not yet late" keep their own date. Lateness is therefore decided when the
    overview is read (due IS NULL or due < today), never stored.

    Kept by triggers in the same transaction as every change that moves it (migration
    policies/0010_compliance_summary explains which); tests/test_compliance_summary.py checks it
    against the rule after every step of generated histories.
    """

    # No index of its own: the unique constraint below starts with it.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.DO_NOTHING, related_name="+", db_index=False
    )
    policy = models.ForeignKey(Policy, on_delete=models.DO_NOTHING, related_name="+")
    unit_id = models.BigIntegerField(help_text="0 for people without a unit.")
    due = models.DateField(null=True)
    must = models.IntegerField()
    compliant = models.IntegerField()

    class Meta:
        constraints = [
            # Organisation first, with the counts in the index: the overview reads one
            # organisation's rows as an index-only range scan, whatever the other kommuner hold.
            models.UniqueConstraint(
                fields=["organisation", "policy", "unit_id", "due"],
                include=["must", "compliant"],
                nulls_distinct=False,
                name="compliance_summary_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id}/{self.unit_id}/{self.due}: {self.compliant} of {self.must}"


class Requirement(models.Model):
    """A row of the view policies_requirement: what a policy in force asks for."""

    policy = models.OneToOneField(
        Policy, on_delete=models.DO_NOTHING, primary_key=True, related_name="+"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.DO_NOTHING, related_name="+")
    current_version = models.ForeignKey(
        PolicyVersion, on_delete=models.DO_NOTHING, related_name="+"
    )
    current_number = models.PositiveIntegerField()
    required_version = models.ForeignKey(
        PolicyVersion, on_delete=models.DO_NOTHING, related_name="+"
    )
    required_number = models.PositiveIntegerField()
    effective_from = models.DateField()
    deadline_days = models.PositiveSmallIntegerField()
    audience_all = models.BooleanField()
    audience_elected = models.BooleanField()

    class Meta:
        managed = False
        db_table = "policies_requirement"

    def __str__(self) -> str:
        return f"{self.policy_id}: v{self.required_number}"


class ObligationQuerySet(models.QuerySet):
    def of(self, person) -> ObligationQuerySet:
        return self.filter(person=person)

    def for_policy(self, policy) -> ObligationQuerySet:
        return self.filter(policy=policy)

    def confirmed(self) -> ObligationQuerySet:
        return self.filter(status=Confirmation.CONFIRMED)

    def missing(self) -> ObligationQuerySet:
        """Not confirmed: never, or only a version older than the required one."""
        return self.filter(status__lt=Confirmation.CONFIRMED)

    def overdue(self, today) -> ObligationQuerySet:
        return self.missing().filter(due__lt=today)


class Obligation(models.Model):
    """A row of the view policies_obligation: one policy one active person must confirm.

    `required_since` is when it became required of them (the required version's effective date,
    or later if they joined their unit later), `due` that plus the deadline.
    """

    pk = models.CompositePrimaryKey("person", "policy")
    person = models.ForeignKey(Person, on_delete=models.DO_NOTHING, related_name="+")
    policy = models.ForeignKey(Policy, on_delete=models.DO_NOTHING, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.DO_NOTHING, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.DO_NOTHING, null=True, related_name="+")
    elected = models.BooleanField()
    current_version = models.ForeignKey(
        PolicyVersion, on_delete=models.DO_NOTHING, related_name="+"
    )
    current_number = models.PositiveIntegerField()
    required_version = models.ForeignKey(
        PolicyVersion, on_delete=models.DO_NOTHING, related_name="+"
    )
    required_number = models.PositiveIntegerField()
    effective_from = models.DateField()
    deadline_days = models.PositiveSmallIntegerField()
    since = models.DateField()
    required_since = models.DateField()
    due = models.DateField()
    last_acknowledgement = models.ForeignKey(
        Acknowledgement, on_delete=models.DO_NOTHING, null=True, related_name="+"
    )
    acknowledged_number = models.PositiveIntegerField(null=True)
    acknowledged_at = models.DateTimeField(null=True)
    status = models.SmallIntegerField(choices=Confirmation.choices)

    objects = ObligationQuerySet.as_manager()

    class Meta:
        managed = False
        db_table = "policies_obligation"

    def __str__(self) -> str:
        return f"{self.person_id}: {self.policy_id}"

    # --- What "Mine retningslinjer" shows -------------------------------------------------------

    @property
    def current(self) -> PolicyVersion:
        return self.current_version

    @property
    def required(self) -> PolicyVersion:
        return self.required_version

    @property
    def deadline(self):
        return self.due

    @property
    def state(self) -> str:
        if self.status == Confirmation.CONFIRMED:
            return State.CONFIRMED
        return State.RECONFIRM if self.status == Confirmation.OLDER else State.UNCONFIRMED

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def is_confirmed(self) -> bool:
        return self.status == Confirmation.CONFIRMED

    @property
    def is_overdue(self) -> bool:
        return not self.is_confirmed and timezone.localdate() > self.due

    @property
    def current_acknowledged(self) -> bool:
        return self.acknowledged_number == self.current_number

    @property
    def changed_since_confirmed(self) -> bool:
        """True when a newer version than the one last confirmed is in force."""
        return (
            self.acknowledged_number is not None and self.acknowledged_number < self.current_number
        )

    @property
    def changes_url(self) -> str:
        if self.acknowledged_number is None:
            return ""
        address = reverse("changes", args=[self.policy.organisation.slug, self.policy.slug])
        return (
            f"{address}?{urlencode({'fra': self.acknowledged_number, 'til': self.current_number})}"
        )
