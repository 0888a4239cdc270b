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
   word would match most of 160 000 sections: the policy sections are ranked from the terms'
   ranking lists (policies.ranking), which score only the sections that can be among the best,
   with the same result. Where that cannot answer, and for translations, the candidates are
   narrowed, exactly, to the sections with at least k of the n terms for the largest k that
   still gives more than COUNT_CAP of them (see _candidates), and all of them are ranked.
5. With (almost) no hits, the nearest words of the vocabulary and the synonyms become a
   "Mente du …?" suggestion, but only words that occur in a text the reader may read now.

A query that uses web search syntax (quotes, `-word`, `or`) is taken literally instead:
`websearch_to_tsquery`, every word required, ranked by cover density.

`ts_headline` is only computed for the rows on the page shown, with the cheap 'simple'
configuration (see highlight_query), and its output is sanitised so that only `<mark>` reaches
the page.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import logging
import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

import nh3
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from redis.exceptions import RedisError

from people.models import Organisation

from . import ranking, textsearch
from .kept import Kept
from .models import (
    EVERY_ORGANISATION,
    SEARCH_CONFIG,
    Policy,
    Status,
    internal_readers_scope,
)

logger = logging.getLogger(__name__)

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
RANK_WEIGHTS = textsearch.RANK_WEIGHTS
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
    # Where the heading leads: `url` with the text's målform named (_hit).
    link: str = ""


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
    """The words of a query, lower-cased, filler dropped, each once, at most MAX_TERMS.

    Filler is only dropped beside other words: a query of filler alone ("rutiner", "lov") is
    about those words.
    """
    words = list(dict.fromkeys(word[:60] for word in _WORD.findall(query.lower())))
    terms = [word for word in words if word not in FILLER_WORDS]
    return (terms or words)[:MAX_TERMS]


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


# Plans are kept in the shared cache: a question asked again skips the round trip that runs the
# dictionary, the synonyms and the splits. What a plan depends on besides the question, the
# synonyms and the vocabulary (for splits), starts a new generation when it changes
# (forget_plans); PLAN_CACHE_SECONDS bounds anything else.
PLAN_CACHE_SECONDS = 3600
_PLAN_GENERATION = "search:plan-generation"
# A cache that is down costs speed, never a search.
_CACHE_UNAVAILABLE = (RedisError, OSError)


def forget_plans() -> None:
    """Start a new generation of cached plans: synonyms or the published texts changed.

    Call it when the change is made and again when it commits (`transaction.on_commit`): a
    search that planned in between can only have stored its plan under the old generation.
    """
    try:
        cache.incr(_PLAN_GENERATION)
    except ValueError:
        cache.set(_PLAN_GENERATION, 1, None)
    except _CACHE_UNAVAILABLE as exc:
        logger.warning("Cache unreachable, search plans not renewed: %s", exc)


def plan(query: str, *, organisation_ids: list[int]) -> Plan:
    """The tsqueries for `query`, with the synonyms of national defaults and `organisation_ids`."""
    return _planned(query, organisation_ids=organisation_ids)[0]


def _planned(
    query: str, *, organisation_ids: list[int], scope: Scope | None = None
) -> tuple[Plan, tuple[str, Plan | None] | None]:
    """plan(), and with `scope` what _suggestion() has cached for this reader's query (None when
    nothing is cached), from one cache round trip."""
    identity = hashlib.sha256(repr((SEARCH_CONFIG, sorted(organisation_ids), query)).encode())
    digest = identity.hexdigest()
    # One cache round trip: the generation, and the plan (and suggestion) under the generation
    # this process saw last (each call of Django's Redis cache costs about a millisecond of
    # client CPU).
    guess = _generation_seen[0]
    keys = [_PLAN_GENERATION, _plan_key(guess, digest)]
    if scope is not None:
        keys.append(_suggestion_key(guess, query, scope, organisation_ids))
    suggestion = None
    try:
        found = cache.get_many(keys)
        generation = found.get(_PLAN_GENERATION, 0)
        cached = found.get(keys[1]) if generation == guess else None
        if generation == guess and scope is not None:
            suggestion = found.get(keys[2])
        if generation != guess:
            _generation_seen[0] = generation
            cached = cache.get(_plan_key(generation, digest))
    except _CACHE_UNAVAILABLE as exc:
        logger.warning("Cache unreachable: %s", exc)
        return _plan(query, organisation_ids=organisation_ids), None
    if cached is None:
        cached = _plan(query, organisation_ids=organisation_ids)
        try:
            cache.set(_plan_key(generation, digest), cached, PLAN_CACHE_SECONDS)
        except _CACHE_UNAVAILABLE as exc:
            logger.warning("Cache unreachable: %s", exc)
    return cached, suggestion


# The plan generation this process saw last: usually still the current one.
_generation_seen = [0]


def _plan_key(generation: int, digest: str) -> str:
    return f"search:plan:{generation}:{digest}"


def _suggestion_key(generation: int, query: str, scope: Scope, organisation_ids: list[int]) -> str:
    identity = repr((SEARCH_CONFIG, scope, sorted(organisation_ids), query)).encode()
    return f"search:suggestion:{generation}:{hashlib.sha256(identity).hexdigest()}"


def _plan(query: str, *, organisation_ids: list[int]) -> Plan:
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
RESOURCE_SECTIONS = "policies_resourcesection"


def _statuses(include_earlier: bool) -> list[str]:
    return [Status.PUBLISHED, Status.SUPERSEDED] if include_earlier else [Status.PUBLISHED]


def _readable_policies(user, organisation: Organisation | None):
    # Who may read what is written once, in PolicyQuerySet.readable_by.
    readable = Policy.objects.order_by().readable_by(user).active()
    if organisation is not None:
        readable = readable.filter(organisation_id=organisation.pk)
    return readable


@dataclass(frozen=True)
class Scope:
    """The policy texts a reader may search, as SQL for the ranking statements.

    `readable` is PolicyQuerySet.readable_by's query (the one definition of who may read),
    compiled once per search; the ranking and counting statements are plain SQL around it, as
    compiling them with the ORM cost more than running them for one kommune.
    """

    readable: str
    readable_params: tuple
    statuses: tuple[str, ...]

    def text_from(self, table: str) -> tuple[str, list]:
        """`FROM <table> t … WHERE <visible>` for a policy text table, with its parameters."""
        source = {
            SECTIONS: "policies_section t JOIN policies_policyversion v ON v.id = t.version_id",
            TRANSLATION_SECTIONS: (
                "policies_translationsection t "
                "JOIN policies_translation tr ON tr.id = t.translation_id "
                "JOIN policies_policyversion v ON v.id = tr.version_id"
            ),
        }[table]
        return (
            f"FROM {source} WHERE v.status = ANY(%s) AND v.policy_id IN ({self.readable})",
            [list(self.statuses), *self.readable_params],
        )

    def section_visible(self) -> tuple[str, list]:
        """SQL true when the policy section `t` is visible, with its parameters: the same test
        as text_from's, per row. For a few sections picked by id, a lookup of each one's
        version and policy is the plan; as `IN (readable)` the planner hashes every readable
        policy's versions instead (measured: 4.7 against 1.9 ms for 300 sections)."""
        return (
            "EXISTS (SELECT 1 FROM policies_policyversion v WHERE v.id = t.version_id "  # noqa: S608
            f"AND v.status = ANY(%s) AND (SELECT 1 FROM ({self.readable}) r "
            "WHERE r.pk = v.policy_id LIMIT 1) IS NOT NULL)",
            [list(self.statuses), *self.readable_params],
        )


def _scope(user, *, organisation: Organisation | None, include_earlier: bool) -> Scope:
    # readable_by depends on the reader only through internal_readers_scope: its compiled query
    # is kept per process for each such scope and organisation.
    internal = internal_readers_scope(user)
    key = (
        "every" if internal is EVERY_ORGANISATION else internal,
        organisation.pk if organisation is not None else None,
        include_earlier,
    )
    return _scopes.get_or_make(key, lambda: _compiled_scope(user, organisation, include_earlier))


def _compiled_scope(user, organisation: Organisation | None, include_earlier: bool) -> Scope:
    readable = _readable_policies(user, organisation).values("pk")
    sql, params = readable.query.sql_with_params()
    return Scope(
        readable=sql, readable_params=tuple(params), statuses=tuple(_statuses(include_earlier))
    )


_scopes = Kept(10_000)


def _score_sql(table: str, plan: Plan, *, every_group: bool = False) -> tuple[str, list]:
    """The score of a row `t` of `table` (see the module docstring) as SQL with its parameters.

    `every_group`: the rows scored are known to match every group (the candidates are the AND
    of them all), so their coverage is the number of groups without testing each again.
    """
    vector = "t.search_vector"
    if plan.literal:
        coverage, params = "0", []
    elif every_group:
        coverage, params = str(len(plan.groups)), []
    else:
        coverage = " + ".join(f"({vector} @@ %s::tsquery)::int" for _ in plan.groups)
        params = list(plan.groups)
    phrase = "0"
    if plan.phrase:
        phrase = f"CASE WHEN {vector} @@ %s::tsquery THEN {PHRASE_BOOST} ELSE 0 END"
        params.append(plan.phrase)
    # Normalisation 32 turns the rank r into r / (r + 1): below one, so it never outweighs a term.
    rank = f"ts_rank_cd('{RANK_WEIGHTS}'::float4[], {vector}, %s::tsquery, 32)"
    if table == RESOURCE_SECTIONS:
        rank = f"{RESOURCE_RANK_FACTOR} * {rank}"
    params.append(plan.any_group)
    # Rounded: scores that differ only in the last bits of float arithmetic are level, and
    # ordered by id (which policies.ranking relies on).
    return (
        f"round((({coverage}) + ({phrase}) + {rank})::numeric, {ranking.SCORE_DECIMALS})::float8",
        params,
    )


def at_least(groups: list[str], k: int) -> str:
    """A tsquery for "at least k of these groups": the OR of every AND of k of them."""
    return " | ".join(
        "( " + " & ".join(f"( {g} )" for g in combination) + " )"
        for combination in itertools.combinations(groups, k)
    )


def _count(scope: Scope, table: str, tsquery: str, cap: int) -> int:
    """How many visible rows of `table` match `tsquery`, counted up to `cap`."""
    source, params = scope.text_from(table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 {source} AND t.search_vector @@ %s::tsquery "  # noqa: S608
            f"LIMIT {int(cap)}) AS c",
            [*params, tsquery],
        )
        return cursor.fetchone()[0]


def _candidates(scope: Scope, table: str, plan: Plan) -> tuple[str, bool]:
    """The tsquery of the sections that can be among the best COUNT_CAP (all of them are ranked),
    and whether each of them matches every group.

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
        if _count(scope, table, query, COUNT_CAP + 1) > COUNT_CAP:
            return query, k == n
    return plan.any_group, n == 1


Ranked = list[tuple[float, str, int]]


def _sanitise_snippet(headline: str) -> SafeString:
    # The headline is document text with <mark> added: anything else in it is text, not markup.
    cleaned = nh3.clean(headline, tags={"mark"}, attributes={}, strip_comments=True)
    return mark_safe(cleaned)  # noqa: S308 - nh3 allows nothing but <mark>.


_LEXEME = re.compile(r"'((?:[^']|'')+)'")


_TSQUERY_TOKEN = re.compile(r"'(?:[^']|'')*'(?::[*A-D]*)?|\S")


def _without_negations(tsquery: str) -> str:
    """`tsquery` text without its negated operands (`!'word'`, `!( … )`): a word the reader
    excluded ("facebook -twitter") is in no hit and must not be marked as if it were."""
    kept: list[str] = []
    tokens = iter(_TSQUERY_TOKEN.findall(tsquery))
    for token in tokens:
        if token != "!":
            kept.append(token)
            continue
        # Skip the operand: a lexeme, or a parenthesised group up to its closing parenthesis.
        depth = 0
        for skipped in tokens:
            depth += {"(": 1, ")": -1}.get(skipped, 0)
            if depth == 0 and skipped != "!":
                break
    return " ".join(kept)


def highlight_query(plan: Plan) -> str:
    """The plan's normalised words as prefixes, for ts_headline with the 'simple' configuration.

    Headlines parse each shown text again; with the Ispell dictionary that costs more than the
    search itself. The normal forms and stems are the beginnings of the words in the text
    ("kommune" of "kommunen", "sosial" of "sosiale"), so matching them as prefixes with 'simple'
    marks the same words at a fraction of the cost.
    """
    lexemes = dict.fromkeys(
        m.group(1) for m in _LEXEME.finditer(_without_negations(plan.any_group))
    )
    return " | ".join(f"'{lex}':*" if len(lex) >= 3 else f"'{lex}'" for lex in lexemes)


# ts_headline's options for every kind of hit.
_HEADLINE_OPTIONS = (
    "StartSel='<mark>', StopSel='</mark>', MaxWords=35, MinWords=15, MaxFragments=2, "
    "FragmentDelimiter=' … '"
)


@functools.lru_cache(maxsize=4096)
def _reverse(name: str, *args) -> str:
    # reverse() is slow enough to count on a page of 20 hits; the same policies come up again.
    return reverse(name, args=args)


def _hit(table: str, data: tuple) -> Hit:
    """A Hit from the columns _RANK_SQL gives the rows on the page."""
    anchor, heading, snippet, title, number, status, language, slug, org_slug, org_name = data
    if table == RESOURCE_SECTIONS:
        key = ("resource_detail", slug)
        language, is_current = "nb", True  # Background resources are in bokmål.
    else:
        is_current = status == Status.PUBLISHED
        key = ("policy_detail", org_slug, slug) if is_current else (
            "version_detail", org_slug, slug, number)  # fmt: skip
    path = _reverse(*key)
    # A policy page without ?sprak= shows the reader's own målform when the version has a
    # translation in it, where the anchor of the text the hit is in may not be: the link names
    # that text's målform. `url` names it only for a translation (the section's own address).
    named = (
        path
        if table == RESOURCE_SECTIONS or not language
        else f"{path}?{urlencode({'sprak': language})}"
    )
    url = named if table == TRANSLATION_SECTIONS else path
    return Hit(
        policy_title=title,
        organisation_name=org_name,
        heading=heading,
        snippet=_sanitise_snippet(snippet or ""),
        url=f"{url}#{anchor}",
        version_number=number,
        is_current=is_current,
        is_resource=table == RESOURCE_SECTIONS,
        language=language,
        is_translation=table == TRANSLATION_SECTIONS,
        link=f"{named}#{anchor}",
    )


def _rank(
    scope: Scope,
    plans: list[Plan],
    limit: int,
    *,
    tiered: bool,
    resources: bool,
    page: int = 1,
) -> tuple[list[tuple[Ranked, Ranked]], dict]:
    """For each plan (policy texts, resources): the (score, table, pk) of the best `limit`
    matches of each, best first; every row that can be among them is ranked. Then the columns
    of a Hit (with ts_headline) for the rows on page `page` (clamped as _page_number does) of
    both merged, by (table, pk), of the plan whose hits are shown. One statement.

    With two plans, the query's and its suggestion's (see _search), the suggestion's hits are
    shown when the query has no policy text and the suggestion has one with every term; else
    the query's. An empty plan has no matches.

    `tiered` first narrows the candidates (see _candidates): worth its counts only where there
    can be many thousands of matches, i.e. across all kommuner.
    """
    ranked_parts, params = [], []
    for k, plan in enumerate(plans):
        if plan.is_empty:
            continue
        sections = None
        if tiered:
            # Where the threshold cannot answer, every match is ranked below instead.
            with contextlib.suppress(ranking.Unbounded):
                sections = ranking.best(scope, plan, limit)
        sql, plan_params = _ranked_sql(
            scope, plan, limit, tiered=tiered, resources=resources, sections=sections
        )
        ranked_parts.append(f"SELECT {k} AS k, r.* FROM ({sql}) AS r")  # noqa: S608
        params += plan_params
    if not ranked_parts:
        return [([], []) for _ in plans], {}
    if len(plans) == 1:
        chosen = "SELECT 0 AS k"
    else:
        chosen = _SUGGESTION_SHOWN_SQL
        params.append(_needed(plans[1]))
    highlights = [highlight_query(plan) for plan in plans]
    params += [page, highlights[0], highlights[-1], _HEADLINE_OPTIONS]
    with connection.cursor() as cursor:
        if tiered:
            # Ranking reads every candidate's vector, so the reason for search()'s
            # enable_seqscan = off (a LIMIT that stops early, see _candidates) is gone: for a
            # word in most sections a parallel sequential scan is the cheaper plan, and for a
            # rare one the planner still takes the index. (An error rolls the transaction back,
            # and the setting with it.)
            cursor.execute("SET LOCAL enable_seqscan = on")
        cursor.execute(
            _RANK_SQL.format(ranked=" UNION ALL ".join(ranked_parts), chosen=chosen), params
        )
        rows = cursor.fetchall()
        if tiered:
            cursor.execute("SET LOCAL enable_seqscan = off")
    results = []
    for k in range(len(plans)):
        texts = [row[1:4] for row in rows if row[0] == k and row[2] != RESOURCE_SECTIONS]
        found = [row[1:4] for row in rows if row[0] == k and row[2] == RESOURCE_SECTIONS]
        results.append((texts, found))
    on_page = {(row[2], row[3]): row[4:] for row in rows if row[4] is not None}
    return results, on_page


def _ranked_sql(
    scope: Scope,
    plan: Plan,
    limit: int,
    *,
    tiered: bool,
    resources: bool,
    sections: Ranked | None = None,
) -> tuple[str, list]:
    """SQL for the (score, source, id) of the best `limit` policy texts, then of the best
    `limit` resources, that match `plan`, with its parameters.

    `sections`: the best policy sections, already ranked (policies.ranking).
    """
    parts, params = [], []
    if sections is not None:
        parts.append(
            f"SELECT r.score, '{SECTIONS}' AS source, r.id "  # noqa: S608 - a table name.
            "FROM unnest(%s::float8[], %s::bigint[]) AS r(score, id)"
        )
        params += [[row[0] for row in sections], [row[2] for row in sections]]
    for table in (SECTIONS, TRANSLATION_SECTIONS):
        if table == SECTIONS and sections is not None:
            continue
        candidates, every_group = plan.any_group, len(plan.groups) == 1 and not plan.literal
        if tiered and not plan.literal:
            candidates, every_group = _candidates(scope, table, plan)
        score, score_params = _score_sql(table, plan, every_group=every_group)
        source, source_params = scope.text_from(table)
        parts.append(
            f"SELECT {score} AS score, '{table}' AS source, t.id {source} "
            "AND t.search_vector @@ %s::tsquery"
        )
        params += [*score_params, *source_params, candidates]
    ranked = (
        f"(SELECT * FROM ({' UNION ALL '.join(parts)}) AS texts "  # noqa: S608
        f"ORDER BY score DESC, source, id LIMIT {int(limit)})"
    )
    if resources:
        score, score_params = _score_sql(RESOURCE_SECTIONS, plan)
        ranked += (
            f" UNION ALL (SELECT {score}, '{RESOURCE_SECTIONS}', t.id "  # noqa: S608
            f"FROM {RESOURCE_SECTIONS} t WHERE t.search_vector @@ %s::tsquery "
            f"ORDER BY 1 DESC, 3 LIMIT {int(limit)})"
        )
        params += [*score_params, plan.any_group]
    return ranked, params


# The ranking statement around the ranked rows ({ranked}: per plan k, the best policy texts,
# then the best resources): both merged as search() shows them (by score; a policy text before
# a resource that scores the same), and for the rows of the page shown of the plan shown
# ({chosen}: its k) the columns of a Hit, with ts_headline only for them. Parameters after the
# ranking's (and chosen's): the page asked for, the tsqueries to highlight for plan 0 and for
# the last plan, ts_headline's options.
# Which plan's hits are shown, of a query's (k = 0) and its suggestion's (k = 1): as _search
# decides. Parameter: the score of a suggestion's hit with every term (_needed).
_SUGGESTION_SHOWN_SQL = f"""
SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM ranked WHERE k = 0 AND source <> '{RESOURCE_SECTIONS}')
             AND EXISTS (SELECT 1 FROM ranked
                          WHERE k = 1 AND source <> '{RESOURCE_SECTIONS}' AND score >= %s)
            THEN 1 ELSE 0 END AS k
"""  # noqa: S608 - a table name only.

_RANK_SQL = f"""
WITH ranked AS ({{ranked}}),
chosen AS ({{chosen}}),
merged AS (
    SELECT k, score, source, id,
           row_number() OVER (PARTITION BY k
                              ORDER BY score DESC, source = '{RESOURCE_SECTIONS}', source, id) AS n,
           count(*) OVER (PARTITION BY k) AS total
      FROM ranked
),
shown AS (
    SELECT c.k,
           (SELECT (least(greatest(%s, 1),
                          greatest(ceil(least(max(total), {COUNT_CAP}) / {PAGE_SIZE}.0)::int, 1))
                    - 1) * {PAGE_SIZE}
              FROM merged WHERE merged.k = c.k) AS after
      FROM chosen c
),
headline AS (
    SELECT (CASE WHEN shown.k = 0 THEN %s ELSE %s END)::tsquery AS query, %s::text AS options
      FROM shown
)
SELECT m.k, m.score, m.source, m.id, h.anchor, h.heading, h.snippet,
       coalesce(h.title, d.title), coalesce(d.number, 0), coalesce(d.status, ''),
       coalesce(h.language, d.language), coalesce(h.slug, d.policy_slug), coalesce(d.org_slug, ''),
       coalesce(h.publisher, d.name)
  FROM merged m CROSS JOIN shown CROSS JOIN headline
  LEFT JOIN LATERAL (
      SELECT s.anchor::text, s.heading::text,
             ts_headline('simple'::regconfig, s.text, headline.query, headline.options) AS snippet,
             NULL::text AS title, s.version_id, NULL::text AS language, NULL::text AS slug,
             NULL::text AS publisher
        FROM policies_section s
       WHERE m.source = '{SECTIONS}' AND m.k = shown.k AND m.n > shown.after AND m.n <= shown.after + {PAGE_SIZE}
         AND s.id = m.id
      UNION ALL
      SELECT s.anchor, s.heading,
             ts_headline('simple'::regconfig, s.text, headline.query, headline.options),
             s.title, tr.version_id, tr.language, NULL, NULL
        FROM policies_translationsection s
        JOIN policies_translation tr ON tr.id = s.translation_id
       WHERE m.source = '{TRANSLATION_SECTIONS}' AND m.k = shown.k
         AND m.n > shown.after AND m.n <= shown.after + {PAGE_SIZE} AND s.id = m.id
      UNION ALL
      SELECT s.anchor, s.heading,
             ts_headline('simple'::regconfig, s.text, headline.query, headline.options),
             s.title, NULL, '', r.slug, r.publisher
        FROM policies_resourcesection s
        JOIN policies_resource r ON r.id = s.resource_id
       WHERE m.source = '{RESOURCE_SECTIONS}' AND m.k = shown.k
         AND m.n > shown.after AND m.n <= shown.after + {PAGE_SIZE} AND s.id = m.id
  ) AS h ON true
  -- The version, policy and kommune of a policy text or a translation, looked up once for
  -- both (fewer relations in each branch above: this statement is planned at every search).
  LEFT JOIN LATERAL (
      SELECT v.title::text, v.number, v.status::text, v.language::text,
             p.slug::text AS policy_slug, o.slug::text AS org_slug, o.name::text
        FROM policies_policyversion v
        JOIN policies_policy p ON p.id = v.policy_id
        JOIN people_organisation o ON o.id = p.organisation_id
       WHERE v.id = h.version_id
      OFFSET 0  -- Planned apart: a lookup per row of the page, not a join of every version.
  ) AS d ON true
 ORDER BY m.k, m.n
"""  # noqa: S608 - table names and integer constants only.


def _readable_sql(scope: Scope) -> tuple[str, list]:
    """SQL true when `w.word` itself (not just its stem) is in a section or resource the reader
    of `scope` may read, with its parameters.

    The index finds the sections with the word's stem; of those, one must have the word as it is
    (the same 'simple' words the vocabulary is made of).
    """
    match = (
        "t.search_vector @@ plainto_tsquery(%s::regconfig, w.word) AND "
        "to_tsvector('simple', t.title || ' ' || t.heading || ' ' || t.text) "
        "@@ to_tsquery('simple', quote_literal(w.word))"
    )
    checks, params = [], []
    for table in (SECTIONS, TRANSLATION_SECTIONS):
        source, source_params = scope.text_from(table)
        checks.append(f"EXISTS (SELECT 1 {source} AND {match})")
        params += [*source_params, SEARCH_CONFIG]
    checks.append(f"EXISTS (SELECT 1 FROM {RESOURCE_SECTIONS} t WHERE {match})")  # noqa: S608
    params.append(SEARCH_CONFIG)
    return " OR ".join(checks), params


def suggest(
    query: str, *, scope: Scope | None = None, organisation_ids: list[int] | None = None
) -> str:
    """The query with each word that is not in the vocabulary replaced by the nearest one that is.

    "" when nothing would change. A vocabulary word is only offered when the reader may read a
    text that has it now (`scope`, by default every current public section); the words of the
    synonyms (national and `organisation_ids`') are offered as they are. One statement.
    """
    if scope is None:
        from django.contrib.auth.models import AnonymousUser

        scope = _scope(AnonymousUser(), organisation=None, include_earlier=False)
    organisation_ids = organisation_ids or []
    words = terms_of(query)
    terms = [t for t in words if 3 <= len(t) <= 40 and "-" not in t]
    if not terms:
        return ""
    readable, readable_params = _readable_sql(scope)
    with connection.cursor() as cursor:
        # Only our SQL and an integer constant are interpolated. `synonyms`: which of the term
        # and its nearest words are words of the synonyms that apply (offered as they are);
        # `readable`: which of the known terms and nearest words the reader may read.
        cursor.execute(
            f"""
            WITH synonyms AS (
                SELECT word FROM policies_synonym
                 WHERE organisation_id IS NULL OR organisation_id = ANY(%s::bigint[])
            ), found AS (
                SELECT q.term, q.ord,
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
                  FROM unnest(%s::text[]) WITH ORDINALITY AS q(term, ord)
            ), readable AS MATERIALIZED (
                SELECT w.word FROM (
                    SELECT DISTINCT x.word
                      FROM found f,
                           unnest(CASE WHEN f.known THEN ARRAY[f.term] ELSE '{{}}' END
                                  || f.nearest) AS x(word)
                ) AS w
                WHERE {readable}
            )
            SELECT f.term, f.known, f.nearest, f.synonyms, ARRAY(SELECT word FROM readable)
              FROM found f ORDER BY f.ord
            """,  # noqa: S608
            [organisation_ids, SUGGESTION_SIMILARITY, terms, *readable_params],
        )
        rows = cursor.fetchall()
    replacements = {}
    for term, known, nearest, synonyms, readable_words in rows:
        # A word of the vocabulary the reader may not read is treated as unknown: whether a
        # suggestion appears must not tell that it is in some internal text.
        if term in synonyms or (known and term in readable_words):
            continue
        for candidate in nearest:
            if candidate in synonyms or candidate in readable_words:
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
    scope = _scope(user, organisation=organisation, include_earlier=include_earlier)
    organisation_ids = _organisation_ids(user, organisation)
    the_plan, cached_suggestion = _planned(query, organisation_ids=organisation_ids, scope=scope)
    result.terms = the_plan.terms
    options = {"tiered": organisation is None, "resources": resources, "page": _requested(page)}
    suggestion = suggested = suggested_on_page = None
    if cached_suggestion is not None and cached_suggestion[0]:
        # Only cached when the query found few hits (in this generation, so it still does):
        # rank the suggestion in the same statement, and _rank shows whichever is shown below.
        suggestion, suggested_plan = cached_suggestion
        ((ranked, resource_ranked), suggested), on_page = _rank(
            scope, [the_plan, suggested_plan], COUNT_CAP + 1, **options
        )
        suggested_on_page = on_page
    else:
        ((ranked, resource_ranked),), on_page = _rank(scope, [the_plan], COUNT_CAP + 1, **options)
    if _full_matches(ranked, the_plan) < FEW_HITS:
        if suggestion is None:
            suggestion, suggested_plan = _suggestion(query, scope, organisation_ids)
            if suggestion:
                (suggested,), suggested_on_page = _rank(
                    scope, [suggested_plan], COUNT_CAP + 1, **options
                )
        if suggestion and _full_matches(suggested[0], suggested_plan) > _full_matches(
            ranked, the_plan
        ):
            result.suggestion = suggestion
            if not ranked:
                the_plan, (ranked, resource_ranked) = suggested_plan, suggested
                on_page = suggested_on_page
                result.showing_suggestion = True
    if the_plan.is_empty:
        return result
    result.policy_count = len(ranked)
    # Stable: a policy text before a resource that scores the same (as _RANK_SQL merges them).
    merged = sorted(ranked + resource_ranked, key=lambda row: -row[0])
    result.count_capped = len(merged) > COUNT_CAP
    result.count = min(len(merged), COUNT_CAP)
    result.num_pages = math.ceil(result.count / PAGE_SIZE)
    result.page = _page_number(page, result.num_pages)
    start = (result.page - 1) * PAGE_SIZE
    result.hits = [
        _hit(table, on_page[(table, pk)]) for _, table, pk in merged[start : start + PAGE_SIZE]
    ]
    return result


def _suggestion(query: str, scope: Scope, organisation_ids: list[int]) -> tuple[str, Plan | None]:
    """suggest() and the plan of its suggestion, kept in the shared cache like plans.

    What they depend on (the vocabulary, the texts the reader may read, the synonyms) changes
    only with a policy event or a synonym, and both start a new plan generation (forget_plans).
    """
    key = _suggestion_key(_generation_seen[0], query, scope, organisation_ids)
    try:
        found = cache.get(key)
    except _CACHE_UNAVAILABLE as exc:
        logger.warning("Cache unreachable: %s", exc)
        found = None
    if found is None:
        suggestion = suggest(query, scope=scope, organisation_ids=organisation_ids)
        found = (
            suggestion,
            plan(suggestion, organisation_ids=organisation_ids) if suggestion else None,
        )
        try:
            cache.set(key, found, PLAN_CACHE_SECONDS)
        except _CACHE_UNAVAILABLE as exc:
            logger.warning("Cache unreachable: %s", exc)
    return found


def _full_matches(ranked: Ranked, the_plan: Plan) -> int:
    """How many of the ranked hits have every term (their score is at least the number of terms)."""
    needed = _needed(the_plan)
    return sum(1 for score, _table, _pk in ranked if score >= needed)


def _needed(the_plan: Plan) -> int:
    """The score of a hit with every term of `the_plan` is at least this."""
    return 0 if the_plan.literal else len(the_plan.groups)


def _requested(raw: object) -> int:
    """The page number asked for, before it is clamped to the pages there are."""
    try:
        return int(str(raw)[:6])
    except (TypeError, ValueError):
        return 1


def _page_number(raw: object, num_pages: int) -> int:
    return min(max(_requested(raw), 1), max(num_pages, 1))
