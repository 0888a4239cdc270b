"""Full-text search over the sections of published policies and background resources.

A question as employees type it ("kan jeg kritisere kommunen på facebook") is read like this:

1. Its words, lower-cased; question words and filler ("kan", "jeg", "lov", ...) and PostgreSQL's
   Norwegian stopwords are dropped. What is left are the *terms*.
2. Each term becomes a *group* of alternatives, all in the `handbook_nb` configuration
   (policies/textsearch.py, which splits compounds in the text and in the query):
   the word itself, the word as a prefix (for partial words and the stemmer's gaps), a split of
   a compound the dictionary does not know into two words of the vocabulary ("facebookgruppe" ->
   facebook & gruppe), the parts of a hyphenated word, and the synonyms editors have given
   ("SoMe" -> "sosiale medier"; policies.models.Synonym).
3. A section matches when it matches any group. Its score is, in this order of weight:
   how many groups it matches (all words first, then most words), a boost when the terms occur
   as a phrase, and `ts_rank_cd` (cover density with the field weights title > heading > text)
   squashed into [0, 1), so it only orders sections that cover equally many terms.
4. Every hit that can be among the first COUNT_CAP is ranked; COUNT_CAP only limits how many are
   counted and paged through ("over 200 treff"). Across all kommuner a question with a common
   word would match most of 160 000 sections: the candidates are narrowed, exactly, to the
   sections with at least k of the n terms for the largest k that still gives more than
   COUNT_CAP of them (see _candidates). A single common word still means ranking every section
   that has it: that is the slow case of bench/search.py.
5. With (almost) no hits, the nearest words of the vocabulary and the synonyms become a
   "Mente du …?" suggestion, but only words that occur in a text the reader may read now.

A query that uses web search syntax (quotes, `-word`, `or`) is taken literally instead:
`websearch_to_tsquery`, every word required, ranked by cover density.

`ts_headline` is only computed for the rows on the page shown, with the cheap 'simple'
configuration (see highlight_query), and its output is sanitised so that only `<mark>` reaches
the page.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

import nh3
from django.contrib.postgres.search import SearchHeadline
from django.db import connection, transaction
from django.db.models import BooleanField, CharField, FloatField, Value
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from people.models import Organisation

from .models import (
    SEARCH_CONFIG,
    Policy,
    ResourceSection,
    Section,
    Status,
    TranslationSection,
)

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
PAGE_SIZE = 20
# Hits are counted and paged through up to this many; all of them are ranked.
COUNT_CAP = 200
# "At least k of n terms" is tried as one tsquery only when it has at most this many ANDs.
MAX_COMBINATIONS = 20
# Fewer hits with every term than this and the vocabulary is asked for a better spelling.
FEW_HITS = 3
# Minimum pg_trgm similarity for a vocabulary word to be suggested instead of a typed word.
SUGGESTION_SIMILARITY = 0.45
# How many of the nearest vocabulary words are checked, per typed word, for being readable.
SUGGESTION_CANDIDATES = 6
PREFIX_MIN_LENGTH = 4
# A compound is split into two vocabulary words only when both have at least this many letters.
SPLIT_MIN_PART = 3
# Field weights for ts_rank_cd, in PostgreSQL's order {D, C, B, A}: text C, heading B, title A.
RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
# A phrase match counts for half a term: it orders sections that cover the same terms.
PHRASE_BOOST = 0.5
# Background reading ranks below a policy section that matches as well: the policy is what binds.
RESOURCE_RANK_FACTOR = 0.5

# Words of a question that say nothing about its subject. PostgreSQL's Norwegian stopword list
# already drops the small words (og, i, jeg, det, kan, hva, hvordan ...); these are the others.
FILLER_WORDS = frozenset(
    ["hvem", "hvorfor", "hvilke", "hvilken", "hvilket", "hvis", "lov", "lovlig", "lovlige", "tillatt", "tillate", "greit", "ok", "okei", "gjøre", "gjør", "gjort", "bør", "må", "skal", "får", "kunne", "ville", "burde", "egentlig", "noen", "noe", "bare", "også", "fortsatt", "spørsmål", "regler", "regel", "rutine", "rutiner", "retningslinje", "retningslinjer", "retningslinjene"]
)  # fmt: skip

# Words, with inner hyphens kept ("it-sikkerhet", "e-post").
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_WEBSEARCH_SYNTAX = re.compile(r'"|(?:^|\s)-\w|\sor\s', re.IGNORECASE)


@dataclass(frozen=True)
class Hit:
    policy_title: str
    organisation_name: str
    heading: str
    snippet: SafeString
    url: str
    version_number: int
    is_current: bool
    # Background reading (a Resource), not a policy to confirm.
    is_resource: bool = False
    # The målform of the text the hit is in (a translation's, or the original's).
    language: str = ""
    is_translation: bool = False


@dataclass
class SearchResult:
    query: str
    hits: list[Hit] = field(default_factory=list)
    count: int = 0
    # True when there are more than COUNT_CAP hits and `count` is COUNT_CAP.
    count_capped: bool = False
    # Hits among policies (not resources), up to COUNT_CAP + 1.
    policy_count: int = 0
    page: int = 1
    num_pages: int = 0
    # "Mente du …?": a better spelling of the query, when one finds something.
    suggestion: str = ""
    # The query whose hits are shown, when the suggestion replaced a query that found nothing.
    showing_suggestion: bool = False
    # The terms searched for, after question words and filler were dropped.
    terms: list[str] = field(default_factory=list)

    @property
    def page_range(self) -> range:
        return range(1, self.num_pages + 1)

    @property
    def first_number(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1


@dataclass(frozen=True)
class Plan:
    """What to look for: one tsquery per term (alternatives OR-ed), and the phrase of them all."""

    terms: list[str]
    groups: list[str]
    phrase: str = ""
    # A web-search-syntax query: one literal tsquery, every word required.
    literal: str = ""

    @property
    def any_group(self) -> str:
        return self.literal or " | ".join(f"( {g} )" for g in self.groups)

    @property
    def is_empty(self) -> bool:
        return not (self.literal or self.groups)


def clean_query(raw: object) -> str:
    """What is left of user input once it is safe to hand to PostgreSQL and short enough to be fast.

    NUL bytes are refused by PostgreSQL text, lone surrogates cannot be encoded, and a 10 000
    character query would only make every step slower.
    """
    if not isinstance(raw, str):
        return ""
    text = raw.encode("utf-8", "ignore").decode("utf-8")
    text = _CONTROL.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    return text[:MAX_QUERY_LENGTH].strip()


def terms_of(query: str) -> list[str]:
    """The words of a query, lower-cased, filler dropped, each once, at most MAX_TERMS."""
    terms: list[str] = []
    for word in _WORD.findall(query.lower()):
        word = word[:60]
        if word not in FILLER_WORDS and word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def uses_websearch_syntax(query: str) -> bool:
    return bool(_WEBSEARCH_SYNTAX.search(query))


# One round trip turns the terms into tsquery text, normalised by the configuration: each
# alternative of a term is computed here and OR-ed with tsquery's own operator (which drops empty
# operands, e.g. a stopword), so the ranking query only compares constants. Only integer
# constants are interpolated.
_PLAN_SQL = f"""
WITH q AS (
    SELECT t.term, t.ord, replace(t.term, '-', ' ') AS spaced, replace(t.term, '-', '') AS joined
      FROM unnest(%(terms)s::text[]) WITH ORDINALITY AS t(term, ord)
), alternatives AS (
    SELECT q.term, q.ord,
           plainto_tsquery(%(cfg)s::regconfig, q.spaced) AS base,
           CASE WHEN q.joined <> q.term
                THEN plainto_tsquery(%(cfg)s::regconfig, q.joined) END AS joined,
           -- A normal form or compound part shorter than PREFIX_MIN_LENGTH stays a whole word:
           -- "pågående" gives 'pågå' | 'gå', and 'gå':* would find every "går" and "gått".
           CASE WHEN length(q.joined) >= {PREFIX_MIN_LENGTH} AND q.joined = q.term
                THEN regexp_replace(to_tsquery(%(cfg)s::regconfig, q.term || ':*')::text,
                                    '''([^'']{{1,{PREFIX_MIN_LENGTH - 1}}})'':\\*', '''\\1''',
                                    'g')::tsquery END AS prefix,
           (SELECT plainto_tsquery(%(cfg)s::regconfig, left(q.joined, s.i))
                   && plainto_tsquery(%(cfg)s::regconfig, substr(q.joined, s.i + 1 + l.link))
              FROM generate_series({SPLIT_MIN_PART}, length(q.joined) - {SPLIT_MIN_PART}) AS s(i)
                   CROSS JOIN (VALUES (0), (1)) AS l(link)
             -- Only words the dictionary does not split itself; a linking s or e may join
             -- the parts ("saksbehandling", "barnehagebarn").
             WHERE numnode(plainto_tsquery(%(cfg)s::regconfig, q.joined)) = 1
               AND (l.link = 0 OR substr(q.joined, s.i + 1, 1) IN ('s', 'e'))
               AND length(q.joined) - s.i - l.link >= {SPLIT_MIN_PART}
               AND EXISTS (SELECT 1 FROM policies_searchterm w
                            WHERE w.word = left(q.joined, s.i))
               AND EXISTS (SELECT 1 FROM policies_searchterm w
                            WHERE w.word = substr(q.joined, s.i + 1 + l.link))
               AND numnode(plainto_tsquery(%(cfg)s::regconfig, left(q.joined, s.i))) > 0
               AND numnode(plainto_tsquery(%(cfg)s::regconfig,
                                           substr(q.joined, s.i + 1 + l.link))) > 0
             ORDER BY least(s.i, length(q.joined) - s.i - l.link) DESC, l.link
             LIMIT 1) AS split,
           (SELECT ('(' || string_agg(DISTINCT phraseto_tsquery(%(cfg)s::regconfig, trim(x.w))::text,
                                      ') | (') || ')')::tsquery
              FROM policies_synonym syn, unnest(string_to_array(syn.words, ',')) AS x(w)
             WHERE syn.word = q.term
               AND (syn.organisation_id IS NULL OR syn.organisation_id = ANY(%(orgs)s::bigint[]))
               AND numnode(phraseto_tsquery(%(cfg)s::regconfig, trim(x.w))) > 0) AS synonyms
      FROM q
)
-- The prefix query has the word's normal forms with :* in the same places, so it matches every
-- position the plain forms match: OR-ing both would only make each ranked row pay for both
-- (ts_rank_cd's cost grows with its operands; its value stays the same, as do the matches).
SELECT term,
       (coalesce(prefix, base) || coalesce(joined, ''::tsquery)
             || coalesce(split, ''::tsquery) || coalesce(synonyms, ''::tsquery))::text,
       phraseto_tsquery(%(cfg)s::regconfig, %(phrase)s)::text
  FROM alternatives
 ORDER BY ord
"""  # noqa: S608


def plan(query: str, *, organisation_ids: list[int]) -> Plan:
    """The tsqueries for `query`, with the synonyms of national defaults and `organisation_ids`."""
    if uses_websearch_syntax(query):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT websearch_to_tsquery(%s::regconfig, %s)::text", [SEARCH_CONFIG, query]
            )
            literal = cursor.fetchone()[0]
        return Plan(terms=terms_of(query), groups=[], literal=literal)
    terms = terms_of(query)
    if not terms:
        return Plan(terms=[], groups=[])
    # A hyphenated word also matches its parts, each with its synonyms ("SoMe-strategi").
    parts = {t: [p for p in t.split("-") if p] for t in terms if "-" in t}
    words = list(dict.fromkeys(terms + [p for ps in parts.values() for p in ps]))
    phrase_words = " ".join(t.replace("-", " ") for t in terms)
    with connection.cursor() as cursor:
        cursor.execute(
            _PLAN_SQL,
            {
                "terms": words,
                "cfg": SEARCH_CONFIG,
                "orgs": organisation_ids,
                "phrase": phrase_words,
            },
        )
        rows = cursor.fetchall()
    group_of = {word: group for word, group, _ in rows}
    phrase = rows[0][2] if rows and len(terms) >= 2 else ""
    kept, groups = [], []
    for term in terms:
        alternatives = [group_of[term]] if group_of[term] else []
        part_groups = [group_of[p] for p in parts.get(term, []) if group_of[p]]
        if len(part_groups) >= 2:
            alternatives.append(" & ".join(f"( {g} )" for g in part_groups))
        # None for a stopword that no synonym gives a meaning.
        if alternatives:
            kept.append(term)
            groups.append(" | ".join(f"( {a} )" for a in alternatives))
    return Plan(terms=kept, groups=groups, phrase=phrase)


SECTIONS = "policies_section"
TRANSLATION_SECTIONS = "policies_translationsection"


def _visible_sections(user, *, organisation: Organisation | None, include_earlier: bool):
    statuses = [Status.PUBLISHED, Status.SUPERSEDED] if include_earlier else [Status.PUBLISHED]
    # Who may read what is written once, in PolicyQuerySet.readable_by.
    readable = Policy.objects.order_by().readable_by(user).active()
    if organisation is not None:
        readable = readable.filter(organisation_id=organisation.pk)
    # No ordering: Section's default (position) would make PostgreSQL sort every hit before a LIMIT.
    return Section.objects.order_by().filter(
        version__status__in=statuses, version__policy__in=readable.values("pk")
    )


def _visible_translation_sections(
    user, *, organisation: Organisation | None, include_earlier: bool
):
    """The sections of the published translations of the versions `_visible_sections` covers.

    A translation of an earlier version ("behind") is found only with `include_earlier`, like
    the version it translates."""
    statuses = [Status.PUBLISHED, Status.SUPERSEDED] if include_earlier else [Status.PUBLISHED]
    readable = Policy.objects.order_by().readable_by(user).active()
    if organisation is not None:
        readable = readable.filter(organisation_id=organisation.pk)
    return TranslationSection.objects.order_by().filter(
        translation__version__status__in=statuses,
        translation__version__policy__in=readable.values("pk"),
    )


def _visible_texts(user, *, organisation: Organisation | None, include_earlier: bool):
    """The policy texts a reader may search, as (queryset, table) pairs: originals and
    translations, each in its own table and index."""
    scope = {"organisation": organisation, "include_earlier": include_earlier}
    return [
        (_visible_sections(user, **scope), SECTIONS),
        (_visible_translation_sections(user, **scope), TRANSLATION_SECTIONS),
    ]


def _score_sql(table: str, plan: Plan) -> tuple[str, list]:
    """The score of a row of `table` (see the module docstring) as SQL with its parameters."""
    vector = f'"{table}"."search_vector"'
    if plan.literal:
        coverage, params = "0", []
    else:
        coverage = " + ".join(f"({vector} @@ %s::tsquery)::int" for _ in plan.groups)
        params = list(plan.groups)
    phrase = "0"
    if plan.phrase:
        phrase = f"CASE WHEN {vector} @@ %s::tsquery THEN {PHRASE_BOOST} ELSE 0 END"
        params.append(plan.phrase)
    # Normalisation 32 turns the rank r into r / (r + 1): below one, so it never outweighs a term.
    rank = f"ts_rank_cd('{RANK_WEIGHTS}'::float4[], {vector}, %s::tsquery, 32)"
    if table == ResourceSection._meta.db_table:
        rank = f"{RESOURCE_RANK_FACTOR} * {rank}"
    params.append(plan.any_group)
    return f"({coverage}) + ({phrase}) + {rank}", params


def _matches(table: str, tsquery: str) -> RawSQL:
    """`<table>.search_vector @@ tsquery` as a filter; the tsquery text is already normalised."""
    return RawSQL(  # noqa: S611 - `table` is one of our two table names; the query is a parameter.
        f'"{table}"."search_vector" @@ %s::tsquery', [tsquery], output_field=BooleanField()
    )


def at_least(groups: list[str], k: int) -> str:
    """A tsquery for "at least k of these groups": the OR of every AND of k of them."""
    return " | ".join(
        "( " + " & ".join(f"( {g} )" for g in combination) + " )"
        for combination in itertools.combinations(groups, k)
    )


def _candidates(queryset, table: str, plan: Plan) -> str:
    """The tsquery of the sections that can be among the best COUNT_CAP: all of them are ranked.

    A section that matches k of the n terms scores below k (phrase and rank add less than one,
    and a phrase needs every term), so when at least COUNT_CAP + 1 sections match k or more terms,
    no section with fewer can reach the first COUNT_CAP. Trying k = n, n-1, ... (each a count of
    at most COUNT_CAP + 1 from the index) keeps a question with one common word ("kommunen")
    from ranking every section that has that word alone.
    """
    n = len(plan.groups)
    for k in range(n, 1, -1):
        if math.comb(n, k) > MAX_COMBINATIONS:
            continue
        query = at_least(plan.groups, k)
        if queryset.filter(_matches(table, query))[: COUNT_CAP + 1].count() > COUNT_CAP:
            return query
    return plan.any_group


def _ranked(
    queryset, table: str, plan: Plan, limit: int, *, tiered: bool = False
) -> list[tuple[int, float]]:
    """(pk, score) of the best `limit` matches; every section that can be among them is ranked.

    `tiered` first narrows the candidates (see _candidates): worth its counts only where there
    can be many thousands of matches, i.e. across all kommuner.
    """
    candidates = plan.any_group
    if tiered and not plan.literal:
        candidates = _candidates(queryset, table, plan)
    score_sql, score_params = _score_sql(table, plan)
    return list(
        queryset.filter(_matches(table, candidates))
        .annotate(score=RawSQL(score_sql, score_params, output_field=FloatField()))  # noqa: S611
        .order_by("-score", "pk")
        .values_list("pk", "score")[:limit]
    )


def _ranked_texts(visible, plan: Plan, limit: int, *, tiered: bool) -> list[tuple[float, str, int]]:
    """(score, table, pk) of the best `limit` policy texts, originals and translations together,
    ranked in one query (a UNION ALL of each table's matches)."""
    parts = []
    for queryset, table in visible:
        candidates = plan.any_group
        if tiered and not plan.literal:
            candidates = _candidates(queryset, table, plan)
        score_sql, score_params = _score_sql(table, plan)
        parts.append(
            queryset.filter(_matches(table, candidates))
            .annotate(
                score=RawSQL(score_sql, score_params, output_field=FloatField()),  # noqa: S611
                source=Value(table, output_field=CharField()),
            )
            .values_list("score", "source", "pk")
        )
    combined = parts[0].union(*parts[1:], all=True).order_by("-score", "source", "pk")[:limit]
    if not tiered:
        return list(combined)
    # Ranking reads every candidate's vector, so the reason for search()'s enable_seqscan = off
    # (a LIMIT that stops early, see _candidates) is gone: for a word in most sections a parallel
    # sequential scan is the cheaper plan, and for a rare one the planner still takes the index.
    # (An error rolls the transaction back, and the setting with it.)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = on")
        ranked = list(combined)
        cursor.execute("SET LOCAL enable_seqscan = off")
    return ranked


def _sanitise_snippet(headline: str) -> SafeString:
    # The headline is document text with <mark> added: anything else in it is text, not markup.
    cleaned = nh3.clean(headline, tags={"mark"}, attributes={}, strip_comments=True)
    return mark_safe(cleaned)  # noqa: S308 - nh3 allows nothing but <mark>.


_LEXEME = re.compile(r"'((?:[^']|'')+)'")


def highlight_query(plan: Plan) -> str:
    """The plan's normalised words as prefixes, for ts_headline with the 'simple' configuration.

    Headlines parse each shown text again; with the Ispell dictionary that costs more than the
    search itself. The normal forms and stems are the beginnings of the words in the text
    ("kommune" of "kommunen", "sosial" of "sosiale"), so matching them as prefixes with 'simple'
    marks the same words at a fraction of the cost.
    """
    lexemes = dict.fromkeys(m.group(1) for m in _LEXEME.finditer(plan.any_group))
    return " | ".join(f"'{lex}':*" if len(lex) >= 3 else f"'{lex}'" for lex in lexemes)


def _headline(plan: Plan) -> SearchHeadline:
    return SearchHeadline(
        "text",
        RawSQL("%s::tsquery", [highlight_query(plan)]),
        start_sel="<mark>",
        stop_sel="</mark>",
        max_words=35,
        min_words=15,
        max_fragments=2,
        fragment_delimiter=" … ",
        config="simple",
    )


# ts_headline's options, as _headline (SearchHeadline) gives them for resource sections.
_HEADLINE_OPTIONS = (
    "StartSel='<mark>', StopSel='</mark>', MaxWords=35, MinWords=15, MaxFragments=2, "
    "FragmentDelimiter=' … '"
)
# The rows on the page, by primary key: plain SQL, as compiling the ORM query cost more than
# running it. Which rows may be shown was decided by the ranking query.
_SECTION_HITS_SQL = """
SELECT s.id, s.anchor, s.heading,
       ts_headline('simple'::regconfig, s.text, %s::tsquery, %s),
       v.number, v.status, v.title, v.language, p.slug, o.slug, o.name
  FROM policies_section s
  JOIN policies_policyversion v ON v.id = s.version_id
  JOIN policies_policy p ON p.id = v.policy_id
  JOIN people_organisation o ON o.id = p.organisation_id
 WHERE s.id = ANY(%s::bigint[])
"""


def _section_hits(ids: list[int], plan: Plan) -> dict[int, Hit]:
    if not ids:
        return {}
    # A second, small query: ts_headline only for the rows on this page.
    with connection.cursor() as cursor:
        cursor.execute(_SECTION_HITS_SQL, [highlight_query(plan), _HEADLINE_OPTIONS, ids])
        rows = cursor.fetchall()
    # reverse() is slow enough to count on a page of 20 hits from a few policies.
    bases: dict[tuple, str] = {}
    hits = {}
    for (
        pk,
        anchor,
        heading,
        snippet,
        number,
        status,
        title,
        language,
        slug,
        org_slug,
        org_name,
    ) in rows:
        is_current = status == Status.PUBLISHED
        key = (org_slug, slug) if is_current else (org_slug, slug, number)
        if key not in bases:
            name = "policy_detail" if is_current else "version_detail"
            bases[key] = reverse(name, args=list(key))
        hits[pk] = Hit(
            policy_title=title,
            organisation_name=org_name,
            heading=heading,
            snippet=_sanitise_snippet(snippet or ""),
            url=f"{bases[key]}#{anchor}",
            version_number=number,
            is_current=is_current,
            language=language,
        )
    return hits


def _translation_hits(ids: list[int], plan: Plan) -> dict[int, Hit]:
    if not ids:
        return {}
    rows = (
        TranslationSection.objects.filter(pk__in=ids)
        .annotate(snippet=_headline(plan))
        .values(
            "pk",
            "anchor",
            "heading",
            "snippet",
            "title",
            "translation__language",
            "translation__version__number",
            "translation__version__status",
            "translation__version__policy__slug",
            "translation__version__policy__organisation__slug",
            "translation__version__policy__organisation__name",
        )
    )
    hits = {}
    for row in rows:
        is_current = row["translation__version__status"] == Status.PUBLISHED
        slugs = [
            row["translation__version__policy__organisation__slug"],
            row["translation__version__policy__slug"],
        ]
        if is_current:
            base = reverse("policy_detail", args=slugs)
        else:
            base = reverse("version_detail", args=[*slugs, row["translation__version__number"]])
        language = row["translation__language"]
        hits[row["pk"]] = Hit(
            policy_title=row["title"],
            organisation_name=row["translation__version__policy__organisation__name"],
            heading=row["heading"],
            snippet=_sanitise_snippet(row["snippet"] or ""),
            url=f"{base}?{urlencode({'sprak': language})}#{row['anchor']}",
            version_number=row["translation__version__number"],
            is_current=is_current,
            language=language,
            is_translation=True,
        )
    return hits


def _resource_hits(ids: list[int], plan: Plan) -> dict[int, Hit]:
    if not ids:
        return {}
    rows = (
        ResourceSection.objects.filter(pk__in=ids)
        .annotate(snippet=_headline(plan))
        .values(
            "pk", "anchor", "heading", "snippet", "title", "resource__slug", "resource__publisher"
        )
    )
    return {
        row["pk"]: Hit(
            policy_title=row["title"],
            organisation_name=row["resource__publisher"],
            heading=row["heading"],
            snippet=_sanitise_snippet(row["snippet"] or ""),
            url=f"{reverse('resource_detail', args=[row['resource__slug']])}#{row['anchor']}",
            version_number=0,
            is_current=True,
            is_resource=True,
            # Background resources are in bokmål: their own pages say lang="nb".
            language="nb",
        )
        for row in rows
    }


def _readable_word(word: str, visible) -> bool:
    """True when `word` itself (not just its stem) is in a section or resource the reader may read.

    The index finds the sections with the word's stem; of those, one must have the word as it is
    (the same 'simple' words the vocabulary is made of).
    """
    for queryset, table in (
        *visible,
        (ResourceSection.objects.order_by(), "policies_resourcesection"),
    ):
        stem = RawSQL(  # noqa: S611 - our table name; the word is a parameter.
            f'"{table}"."search_vector" @@ plainto_tsquery(%s::regconfig, %s)',
            [SEARCH_CONFIG, word],
            output_field=BooleanField(),
        )
        exact = RawSQL(  # noqa: S611 - our table name; the word is a parameter.
            f'to_tsvector(\'simple\', "{table}"."title" || \' \' || "{table}"."heading" '
            f"|| ' ' || \"{table}\".\"text\") @@ to_tsquery('simple', quote_literal(%s))",
            [word],
            output_field=BooleanField(),
        )
        if queryset.filter(stem, exact).exists():
            return True
    return False


def suggest(query: str, *, visible=None, organisation_ids: list[int] | None = None) -> str:
    """The query with each word that is not in the vocabulary replaced by the nearest one that is.

    "" when nothing would change. A vocabulary word is only offered when the reader may read a
    text that has it now (`visible`, by default every current public section); the words of the
    synonyms (national and `organisation_ids`') are offered as they are.
    """
    if visible is None:
        from django.contrib.auth.models import AnonymousUser

        visible = _visible_texts(AnonymousUser(), organisation=None, include_earlier=False)
    organisation_ids = organisation_ids or []
    words = terms_of(query)
    terms = [t for t in words if 3 <= len(t) <= 40 and "-" not in t]
    if not terms:
        return ""
    with connection.cursor() as cursor:
        # Only an integer constant is interpolated. `synonyms`: which of the term and its
        # nearest words are words of the synonyms that apply (offered as they are).
        cursor.execute(
            f"""
            WITH synonyms AS (
                SELECT word FROM policies_synonym
                 WHERE organisation_id IS NULL OR organisation_id = ANY(%s::bigint[])
            )
            SELECT q.term,
                   EXISTS (SELECT 1 FROM policies_searchterm w WHERE w.word = q.term) AS known,
                   ARRAY(SELECT c.word FROM (
                       SELECT w.word, similarity(w.word, q.term) AS score
                         FROM policies_searchterm w WHERE w.word %% q.term
                       UNION ALL
                       SELECT s.word, similarity(s.word, q.term)
                         FROM synonyms s WHERE s.word %% q.term
                   ) c WHERE c.score >= %s ORDER BY c.score DESC, c.word
                   LIMIT {SUGGESTION_CANDIDATES}) AS nearest,
                   ARRAY(SELECT s.word FROM synonyms s
                          WHERE s.word = q.term OR s.word %% q.term) AS synonyms
              FROM unnest(%s::text[]) AS q(term)
            """,  # noqa: S608
            [organisation_ids, SUGGESTION_SIMILARITY, terms],
        )
        rows = cursor.fetchall()
    replacements = {}
    for term, known, nearest, synonyms in rows:
        # A word of the vocabulary the reader may not read is treated as unknown: whether a
        # suggestion appears must not tell that it is in some internal text.
        if term in synonyms or (known and _readable_word(term, visible)):
            continue
        for candidate in nearest:
            if candidate in synonyms or _readable_word(candidate, visible):
                replacements[term] = candidate
                break
    if not replacements:
        return ""
    suggestion = " ".join(replacements.get(t, t) for t in words)
    return suggestion if suggestion != " ".join(words) else ""


def search(
    query: object,
    *,
    user,
    organisation: Organisation | None = None,
    include_earlier: bool = False,
    page: object = 1,
    resources: bool = True,
) -> SearchResult:
    """Search what this reader may read, best first, a page at a time. Never raises on input.

    Sections of current versions of policies that are not retired (earlier versions too with
    `include_earlier`), in `organisation` or everywhere, and, with `resources`, the sections of
    the background resources.
    """
    query = clean_query(query)
    result = SearchResult(query=query)
    if not query:
        return result
    arguments = {
        "user": user, "organisation": organisation, "include_earlier": include_earlier,
        "page": page, "resources": resources,
    }  # fmt: skip
    if organisation is not None:
        # One kommune's few hundred sections, reached through its policies: the planner finds
        # that path itself, and the transaction below would only add two round trips.
        return _search(query, result, **arguments)
    with transaction.atomic():
        # The planner prices `search_vector @@ q` on a sequential scan as cheap, but each row then
        # has its tsvector de-TOASTed; at national scale that made a LIMIT query read tens of
        # thousands of them. The index answers without reading the vectors. SET LOCAL ends
        # with this transaction (behind PgBouncer in transaction mode too: it is one
        # transaction on one server connection).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        return _search(query, result, **arguments)


def _organisation_ids(user, organisation: Organisation | None) -> list[int]:
    """Whose synonyms apply: the reader's own organisation's (national defaults always do)."""
    ids = []
    if user.is_authenticated and user.organisation_id:
        ids.append(user.organisation_id)
    return ids


def _search(query, result, *, user, organisation, include_earlier, page, resources):
    visible = _visible_texts(user, organisation=organisation, include_earlier=include_earlier)
    organisation_ids = _organisation_ids(user, organisation)
    the_plan = plan(query, organisation_ids=organisation_ids)
    result.terms = the_plan.terms
    tiered = organisation is None
    ranked = (
        _ranked_texts(visible, the_plan, COUNT_CAP + 1, tiered=tiered)
        if not the_plan.is_empty
        else []
    )
    if _full_matches(ranked, the_plan) < FEW_HITS:
        suggestion = suggest(query, visible=visible, organisation_ids=organisation_ids)
        if suggestion:
            suggested_plan = plan(suggestion, organisation_ids=organisation_ids)
            suggested = _ranked_texts(visible, suggested_plan, COUNT_CAP + 1, tiered=tiered)
            if _full_matches(suggested, suggested_plan) > _full_matches(ranked, the_plan):
                result.suggestion = suggestion
                if not ranked:
                    the_plan, ranked = suggested_plan, suggested
                    result.showing_suggestion = True
    if the_plan.is_empty:
        return result
    resource_ranked = []
    if resources:
        resource_ranked = _ranked(
            ResourceSection.objects.order_by(), "policies_resourcesection", the_plan, COUNT_CAP + 1
        )
    result.policy_count = len(ranked)
    merged = sorted(
        ranked + [(score, "policies_resourcesection", pk) for pk, score in resource_ranked],
        key=lambda row: -row[0],
    )
    result.count_capped = len(merged) > COUNT_CAP
    result.count = min(len(merged), COUNT_CAP)
    result.num_pages = math.ceil(result.count / PAGE_SIZE)
    result.page = _page_number(page, result.num_pages)
    start = (result.page - 1) * PAGE_SIZE
    shown = merged[start : start + PAGE_SIZE]
    hits = {
        table: hits_of([pk for _, t, pk in shown if t == table], the_plan)
        for table, hits_of in (
            (SECTIONS, _section_hits),
            (TRANSLATION_SECTIONS, _translation_hits),
            ("policies_resourcesection", _resource_hits),
        )
    }
    result.hits = [hits[table][pk] for _, table, pk in shown]
    return result


def _full_matches(ranked: list[tuple[float, str, int]], the_plan: Plan) -> int:
    """How many of the ranked hits have every term (their score is at least the number of terms)."""
    needed = 0 if the_plan.literal else len(the_plan.groups)
    return sum(1 for score, _table, _pk in ranked if score >= needed)


def _page_number(raw: object, num_pages: int) -> int:
    try:
        number = int(str(raw)[:6])
    except (TypeError, ValueError):
        number = 1
    return min(max(number, 1), max(num_pages, 1))
