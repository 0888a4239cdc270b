"""Full-text search over the sections of published policies.

Three layers, cheapest first:

1. `websearch_to_tsquery('norwegian', q)` for what the reader typed (quotes, `-`, `OR` work as on
   the web and it never raises), OR-ed with
2. a prefix query `term1:* & term2:*` built only from word characters, for partial words and for
   the Snowball stemmer's gaps ("kommentar" vs "kommentarer");
3. when that finds little, the nearest words of the vocabulary (`SearchTerm`, pg_trgm) become a
   "Mente du …?" suggestion, and with no hits at all its results are shown directly.

The work per query is bounded, so that a word found in most of 160 000 sections costs about as
much as a rare one: hits are counted up to COUNT_CAP ("over 200 treff"), and when there are more,
ranking (which must read every candidate's tsvector) runs over the sections whose title or heading
matches (a small vector with its own index) plus the first COUNT_CAP others, not over all of them.
Below the cap every hit is ranked.

`ts_headline` is only computed for the rows on the page shown, and its output is sanitised so that
only `<mark>` reaches the page.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import nh3
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection, transaction
from django.db.models import F
from django.utils.safestring import SafeString, mark_safe

from people.models import Organisation

from .models import SEARCH_CONFIG, Policy, Section, Status

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
PAGE_SIZE = 20
# Hits are counted, and all ranked, up to this many; beyond it see the module docstring.
COUNT_CAP = 200
# With more hits than COUNT_CAP, at most this many heading hits and as many others are ranked.
RANK_SAMPLE = 200
# Fewer full-text hits than this and the vocabulary is asked for a better spelling.
FEW_HITS = 3
# Minimum pg_trgm similarity for a vocabulary word to be suggested instead of a typed word.
SUGGESTION_SIMILARITY = 0.45

# Letters and digits only: nothing that to_tsquery could read as an operator.
_TERM = re.compile(r"[^\W_]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_WEBSEARCH_SYNTAX = re.compile(r'"|(?:^|\s)-\w|\sor\s', re.IGNORECASE)
PREFIX_MIN_LENGTH = 4


@dataclass(frozen=True)
class Hit:
    policy_title: str
    organisation_name: str
    heading: str
    snippet: SafeString
    url: str
    version_number: int
    is_current: bool


@dataclass
class SearchResult:
    query: str
    hits: list[Hit] = field(default_factory=list)
    count: int = 0
    # True when there are more than COUNT_CAP hits and `count` is COUNT_CAP.
    count_capped: bool = False
    page: int = 1
    num_pages: int = 0
    # "Mente du …?": a better spelling of the query, when one finds something.
    suggestion: str = ""
    # The query whose hits are shown, when the suggestion replaced a query that found nothing.
    showing_suggestion: bool = False

    @property
    def page_range(self) -> range:
        return range(1, self.num_pages + 1)

    @property
    def first_number(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1


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
    """The word-character terms of a query, lower-cased, at most MAX_TERMS."""
    return [t.lower() for t in _TERM.findall(query)][:MAX_TERMS]


def prefix_tsquery(query: str) -> str:
    """`'term1':* & 'term2':*` from the query's words, or "" when it has none.

    Each term is quoted, and holds only letters and digits, so the result always parses. Terms
    shorter than PREFIX_MIN_LENGTH are matched whole: "s:*" would make the index visit every word
    that starts with an s. A query that uses websearch syntax (quotes, -word, or) gets no prefix
    query, which would otherwise bring back what the reader excluded.
    """
    if _WEBSEARCH_SYNTAX.search(query):
        return ""
    return " & ".join(
        f"'{t}':*" if len(t) >= PREFIX_MIN_LENGTH else f"'{t}'" for t in terms_of(query)
    )


def _visible_sections(user, *, organisation: Organisation | None, include_earlier: bool):
    statuses = [Status.PUBLISHED, Status.SUPERSEDED] if include_earlier else [Status.PUBLISHED]
    # No ordering: Section's default (position) would make PostgreSQL sort every hit before a LIMIT.
    sections = Section.objects.order_by().filter(
        version__status__in=statuses, version__policy__retired_at__isnull=True
    )
    # Who may read what is Policy.objects.readable_by, used here as a subquery.
    sections = sections.filter(version__policy__in=Policy.objects.readable_by(user))
    if organisation is not None:
        sections = sections.filter(version__policy__organisation_id=organisation.pk)
    return sections


def _tsquery(query: str):
    websearch = SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
    prefix = prefix_tsquery(query)
    if prefix:
        return websearch | SearchQuery(prefix, config=SEARCH_CONFIG, search_type="raw")
    return websearch


def _matches(query: str, visible):
    tsquery = _tsquery(query)
    return visible.filter(search_vector=tsquery), tsquery


def _sanitise_snippet(headline: str) -> SafeString:
    # The headline is document text with <mark> added: anything else in it is text, not markup.
    cleaned = nh3.clean(headline, tags={"mark"}, attributes={}, strip_comments=True)
    return mark_safe(cleaned)  # noqa: S308 - nh3 allows nothing but <mark>.


def _first_hits(matching) -> list[int]:
    """Up to COUNT_CAP + 1 hits in storage order: their number is the (capped) count."""
    return list(matching.values_list("pk", flat=True)[: COUNT_CAP + 1])


def _candidates(hit_ids: list[int], visible, tsquery):
    """The sections to rank: all hits, or when there are too many, a bounded set of the best."""
    if len(hit_ids) <= COUNT_CAP:
        ids = set(hit_ids)
    else:
        # Ranking reads each candidate's whole tsvector: keep the set small, and make sure it
        # holds the sections the words head, which rank highest (weights A and B).
        ids = set(hit_ids[:RANK_SAMPLE])
        ids.update(
            visible.filter(heading_vector=tsquery).values_list("pk", flat=True)[:RANK_SAMPLE]
        )
    return Section.objects.order_by().filter(pk__in=ids)


def _page_of_hits(candidates, tsquery, page: int) -> list[Hit]:
    start = (page - 1) * PAGE_SIZE
    ranked = (
        candidates.annotate(rank=SearchRank(F("search_vector"), tsquery, cover_density=False))
        .order_by("-rank", "pk")
        .values_list("pk", flat=True)[start : start + PAGE_SIZE]
    )
    ids = list(ranked)
    if not ids:
        return []
    # A second, small query: ts_headline only for the rows on this page.
    rows = (
        Section.objects.filter(pk__in=ids)
        .annotate(
            snippet=SearchHeadline(
                "text",
                tsquery,
                config=SEARCH_CONFIG,
                start_sel="<mark>",
                stop_sel="</mark>",
                max_words=35,
                min_words=15,
                max_fragments=2,
                fragment_delimiter=" … ",
            )
        )
        .values(
            "pk",
            "anchor",
            "heading",
            "snippet",
            "version__number",
            "version__status",
            "version__title",
            "version__policy__slug",
            "version__policy__organisation__slug",
            "version__policy__organisation__name",
        )
    )
    by_id = {row["pk"]: row for row in rows}
    hits = []
    for pk in ids:
        row = by_id[pk]
        is_current = row["version__status"] == Status.PUBLISHED
        base = f"/{row['version__policy__organisation__slug']}/{row['version__policy__slug']}/"
        if not is_current:
            base += f"versjon/{row['version__number']}/"
        hits.append(
            Hit(
                policy_title=row["version__title"],
                organisation_name=row["version__policy__organisation__name"],
                heading=row["heading"],
                snippet=_sanitise_snippet(row["snippet"] or ""),
                url=f"{base}#{row['anchor']}",
                version_number=row["version__number"],
                is_current=is_current,
            )
        )
    return hits


def suggest(query: str) -> str:
    """The query with each word that is not in the vocabulary replaced by the nearest one that is.

    "" when nothing would change. The vocabulary spans all organisations, so callers only offer
    the suggestion when it finds something the reader may see.
    """
    terms = [t for t in terms_of(query) if len(t) >= 3 and len(t) <= 40]
    if not terms:
        return ""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT q.term,
                   (SELECT w.word FROM policies_searchterm w WHERE w.word = q.term) AS exact,
                   (SELECT w.word FROM policies_searchterm w
                     WHERE w.word %% q.term
                     ORDER BY similarity(w.word, q.term) DESC, w.word LIMIT 1) AS nearest,
                   (SELECT max(similarity(w.word, q.term)) FROM policies_searchterm w
                     WHERE w.word %% q.term) AS score
              FROM unnest(%s::text[]) AS q(term)
            """,
            [terms],
        )
        replacements = {
            term: nearest
            for term, exact, nearest, score in cursor.fetchall()
            if exact is None and nearest and score >= SUGGESTION_SIMILARITY
        }
    if not replacements:
        return ""
    words = [replacements.get(t, t) for t in terms_of(query)]
    suggestion = " ".join(words)
    return suggestion if suggestion != " ".join(terms_of(query)) else ""


def search(
    query: object,
    *,
    user,
    organisation: Organisation | None = None,
    include_earlier: bool = False,
    page: object = 1,
) -> SearchResult:
    """Search the sections this reader may read, best first, a page at a time. Never raises on input.

    Only current versions of policies that are not retired, unless `include_earlier`.
    """
    query = clean_query(query)
    result = SearchResult(query=query)
    if not query:
        return result
    with transaction.atomic():
        # The planner prices `search_vector @@ q` on a sequential scan as cheap, but each row then
        # has its tsvector de-TOASTed; at national scale that made a LIMIT query read tens of
        # thousands of them. The GIN index answers without reading the vectors. SET LOCAL ends
        # with this transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        return _search(
            query, result, user=user, organisation=organisation,
            include_earlier=include_earlier, page=page,
        )  # fmt: skip


def _search(query, result, *, user, organisation, include_earlier, page) -> SearchResult:
    visible = _visible_sections(user, organisation=organisation, include_earlier=include_earlier)
    matching, tsquery = _matches(query, visible)
    hit_ids = _first_hits(matching)
    if len(hit_ids) < FEW_HITS:
        suggestion = suggest(query)
        if suggestion:
            suggested, suggested_tsquery = _matches(suggestion, visible)
            suggested_ids = _first_hits(suggested)
            if len(suggested_ids) > len(hit_ids):
                result.suggestion = suggestion
                if not hit_ids:
                    tsquery, hit_ids = suggested_tsquery, suggested_ids
                    result.showing_suggestion = True
    result.count_capped = len(hit_ids) > COUNT_CAP
    result.count = min(len(hit_ids), COUNT_CAP)
    result.num_pages = math.ceil(result.count / PAGE_SIZE)
    result.page = _page_number(page, result.num_pages)
    if hit_ids:
        candidates = _candidates(hit_ids, visible, tsquery)
        result.hits = _page_of_hits(candidates, tsquery, result.page)
    return result


def _page_number(raw: object, num_pages: int) -> int:
    try:
        number = int(str(raw)[:6])
    except (TypeError, ValueError):
        number = 1
    return min(max(number, 1), max(num_pages, 1))
